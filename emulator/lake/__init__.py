"""What the Glue and Athena APIs share without importing each other: S3 objects under a location, read with
pyarrow's S3 filesystem (listing, Parquet footers), and the shape of a table as a query engine needs it."""
