"""``kemu up`` at run time: its pipeline components and their child processes, the topics it creates up front, and the
demo that serves the API beside them under one supervisor (:mod:`emulator.supervision`)."""
