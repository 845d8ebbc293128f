"""The stall registry (sổ tiểu thương): stalls, holders, payment accounts, onboarding state, history.

Everything else hangs on it: the VietQR card prints a stall's default account, reconciliation
attributes a transfer to the stall that owns the account, adoption counts stalls by onboarding
state. Entry points:

- ``market.merchants.service``: register, change, read, list and search stalls; history.
- ``market.merchants.account_changes``: a change of a stall's receiving accounts waits for a second
  person's approval (``MARKET_ACCOUNT_CHANGE_APPROVAL``); approve, reject, list.
- ``market.merchants.importer`` / ``market.merchants.csvio`` / ``market.merchants.xlsxio``: CSV and XLSX import
  (all or nothing) and export.
- ``market.merchants.cli``: ``market merchants import|export|changes|approve|reject``;
  ``market.devtools.seed_registry``: demo data.
"""

from market.merchants.contacts import normalize_phone
from market.merchants.importer import ImportReport, import_csv
from market.merchants.schemas import Account, StallData, StallIn, StallOut, StallPatch
from market.merchants.service import (
    StallFilter,
    all_stalls,
    create_stall,
    get_stall,
    list_stalls,
    onboarding_state,
    stall_history,
    update_stall,
)
from market.merchants.stall_codes import normalize_stall_code
from market.merchants.vocab import CATEGORIES, FREQUENCIES, NO_CASHLESS_REASONS, ONBOARDING_STATES, STATUSES

__all__ = [
    "CATEGORIES",
    "FREQUENCIES",
    "NO_CASHLESS_REASONS",
    "ONBOARDING_STATES",
    "STATUSES",
    "Account",
    "ImportReport",
    "StallData",
    "StallFilter",
    "StallIn",
    "StallOut",
    "StallPatch",
    "all_stalls",
    "create_stall",
    "get_stall",
    "import_csv",
    "list_stalls",
    "normalize_phone",
    "normalize_stall_code",
    "onboarding_state",
    "stall_history",
    "update_stall",
]
