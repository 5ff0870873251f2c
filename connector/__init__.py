"""MAP <-> Salesforce connector: reconcile people and touches, write back source
fields, campaign members, scores and attribution, and audit both sides."""

from connector.config import Settings, load_settings
from connector.errors import ConnectorError
from connector.mappings import Mappings, load_mappings
from connector.models import Person, Program, Rejection, TargetAccount, Touch

__all__ = [
    "ConnectorError",
    "Mappings",
    "Person",
    "Program",
    "Rejection",
    "Settings",
    "TargetAccount",
    "Touch",
    "load_mappings",
    "load_settings",
]
__version__ = "0.1.0"
