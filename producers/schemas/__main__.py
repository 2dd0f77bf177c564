"""``python -m producers.schemas``: regenerate the JSON Schema files from the event models."""

from producers.schemas import write_schemas

for path in write_schemas():
    print(path)
