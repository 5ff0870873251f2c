"""Everything the connector says to Salesforce goes through this package.

``SalesforceClient`` (auth, retries, session refresh, API budget, call log),
``Writer`` (collections / Bulk 2.0 writes with typed per-record results),
``DescribeCache`` + ``require_valid_mappings`` (start-up schema checks),
``soql`` (escaped statement building) and ``ChangeReader`` (incremental reads).
"""

from connector.salesforce.client import SalesforceClient
from connector.salesforce.describe import DescribeCache, require_valid_mappings, validate_mappings
from connector.salesforce.incremental import ChangeReader
from connector.salesforce.writer import NOT_ATTEMPTED, RecordResult, WriteOp, WriteOutcome, Writer

__all__ = [
    "NOT_ATTEMPTED",
    "ChangeReader",
    "DescribeCache",
    "RecordResult",
    "SalesforceClient",
    "WriteOp",
    "WriteOutcome",
    "Writer",
    "require_valid_mappings",
    "validate_mappings",
]
