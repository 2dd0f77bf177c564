"""The errors of the Glue Data Catalog API, each with the ``__type`` boto3 turns into its exception class.

GlueError (base; never raised itself)
├── EntityNotFoundException               the database, table, partition or crawler does not exist
├── AlreadyExistsException                it exists already
├── InvalidInputException                 a value is not acceptable (name, expression, token, location)
├── ResourceNumberLimitExceededException  a batch holds more entries than Glue allows
├── CrawlerRunningException               the crawler is running (StartCrawler, UpdateCrawler, DeleteCrawler)
├── CrawlerNotRunningException            StopCrawler on a crawler that is not running
└── InternalServiceException              the catalog's topic did not take a write; status 500
"""

from __future__ import annotations

from emulator.glue.wire import AwsError


class GlueError(AwsError):
    """Base of the Glue API's errors."""


class EntityNotFoundException(GlueError):
    pass


class AlreadyExistsException(GlueError):
    pass


class InvalidInputException(GlueError):
    pass


class ResourceNumberLimitExceededException(GlueError):
    pass


class CrawlerRunningException(GlueError):
    pass


class CrawlerNotRunningException(GlueError):
    pass


class InternalServiceException(GlueError, status=500):
    pass
