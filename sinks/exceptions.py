"""Errors of the ``sinks`` package.

SinkError
├── PrefixError           a prefix or error output prefix breaks Firehose's rules
├── RecordError           one record cannot be delivered (it goes to the error prefix, the stream goes on)
│   ├── ParseError            not a JSON object
│   ├── ConversionError       a value does not fit its column's type
│   ├── IsolatedError         converting the record crashed or failed the converter; it was isolated unread
│   └── PartitioningError     a partition key is missing or not usable in an object key
├── DestinationError      S3 refused a request for a reason retrying will not fix
└── StopRequested         a stop came while waiting for S3; nothing was committed
"""

from __future__ import annotations


class SinkError(Exception):
    """Base of every error the sinks package raises."""


class PrefixError(SinkError, ValueError):
    """A ``Prefix`` or ``ErrorOutputPrefix`` that Firehose would refuse, with the rule it breaks.

    Also a ``ValueError``, so configuration models report it as a validation error of the field."""


class RecordError(SinkError):
    """One record that cannot be written as Parquet; carries the Firehose-style error code."""

    #: ``!{firehose:error-output-type}`` of the error prefix this record goes under.
    output_type = "format-conversion-failed"
    code = "DataFormatConversion.MalformedData"


class ParseError(RecordError):
    """The record is not a JSON object."""

    code = "DataFormatConversion.MalformedData"


class ConversionError(RecordError):
    """A field's value does not convert to the column's type (a type conflict with the schema)."""

    code = "DataFormatConversion.InvalidSchema"


class IsolatedError(RecordError):
    """Converting this record crashed the write worker, or raised where no other record did: it was found by
    screening (:mod:`sinks.isolation`) and goes to the errors unconverted."""


class PartitioningError(RecordError):
    """A ``partitionKeyFromQuery`` field is missing, null, or not usable in an object key."""

    output_type = "processing-failed"
    code = "DynamicPartitioning.MetadataExtractionFailed"


class DestinationError(SinkError):
    """S3 refused a request with an error retrying cannot fix (for example, a missing bucket or bad credentials)."""


class StopRequested(SinkError):
    """A stop was requested while S3 was unreachable; the unwritten records stay uncommitted and are re-read."""
