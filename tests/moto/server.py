"""moto's server mode (`moto_server`) with two changes that keep its answers and make its time
per request independent of the table's size: a DynamoDB transaction backs up only the items it
touches, and a query on the table's own key reads only its partition.

moto 5.2.5 backs up a transaction by deep-copying every table the transaction names, once per
operation, so a transaction costs time in proportion to the whole table: 10 puts took 0.1 s
against a 100-item table and 6.3 s against a 5,000-item one. Pantau writes every new item in a
transaction, so the tests on moto slowed as their tables grew (`e2e_aws` ~1,000 s of `make test`).

Here the backup is each touched item as it was (deep-copied, since updates change items in
place), and a transaction that fails puts those items back: the same all-or-nothing outcome,
which `table_conformance` checks on moto (`transact_write_is_all_or_nothing`,
`transact_write_refuses_over_100_ops_and_duplicates`).

A query on the table's key (no index) gathered every item of the table, sorted them all and
kept those of the partition asked for: 66% of moto's time in `e2e_aws` (py-spy). Here such a
query is given the partition's items alone; moto filters and sorts them as before. Queries on an
index still look at every item. Everything else is moto's own code.
"""

import copy
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.server import main

_moto_transaction = DynamoDBBackend.transact_write_items
# Set while this thread runs a transaction: moto's whole-table backup is skipped then.
_in_transaction = threading.local()
_table_deepcopy = getattr(Table, "__deepcopy__", None)


def _table_copy(table, memo):
    if getattr(_in_transaction, "active", False):
        # moto's backup of the whole table: the touched items are backed up instead, and
        # "restoring" this backup puts the same table object back.
        return table
    if _table_deepcopy is not None:
        return _table_deepcopy(table, memo)
    # The default deep copy, as if `__deepcopy__` were not defined.
    cls = table.__class__
    copied = cls.__new__(cls)
    memo[id(table)] = copied
    for name, value in table.__dict__.items():
        setattr(copied, name, copy.deepcopy(value, memo))
    return copied


def _touched(backend, transact_items):
    """(table, hash key, range key, the item as it is now or None) per operation."""
    touched = []
    for entry in transact_items:
        if not isinstance(entry, dict) or len(entry) != 1:
            continue
        (_, op), = entry.items()
        table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
        if table is None:
            continue
        attrs = op.get("Key") or op.get("Item") or {}
        try:
            hash_key = DynamoType(attrs[table.hash_key_attr])
            range_key = (
                DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
            )
        except (KeyError, TypeError):
            continue  # moto refuses the operation itself
        current = table.get_item(hash_key, range_key)
        touched.append((table, hash_key, range_key, copy.deepcopy(current)))
    return touched


def _restore(touched):
    # Backwards: with an operation twice on one key (which moto refuses midway), the first
    # backup, taken before any write, is the one that stays.
    for table, hash_key, range_key, before in reversed(touched):
        if before is None:
            table.delete_item(hash_key, range_key)
        elif range_key is not None:
            table.items[hash_key][range_key] = before
        else:
            table.items[hash_key] = before


def transact_write_items(self, transact_items):
    touched = _touched(self, transact_items)
    _in_transaction.active = True
    try:
        return _moto_transaction(self, transact_items)
    except BaseException:
        _restore(touched)
        raise
    finally:
        _in_transaction.active = False


_moto_query = Table.query
_moto_all_items = Table.all_items
# Set while this thread runs a query on a table's key: (the table, the partition's hash key).
_partition_query = threading.local()


def query(self, hash_key, *args, **kwargs):
    index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
    if index_name or hash_key is None:
        return _moto_query(self, hash_key, *args, **kwargs)
    _partition_query.asked = (self, hash_key)
    try:
        return _moto_query(self, hash_key, *args, **kwargs)
    finally:
        _partition_query.asked = None


def all_items(self):
    asked = getattr(_partition_query, "asked", None)
    if asked is None or asked[0] is not self:
        return _moto_all_items(self)
    # `items` is a defaultdict: `get` reads without adding an empty partition.
    partition = self.items.get(asked[1])
    if partition is None:
        return []
    return list(partition.values()) if self.range_key_attr else [partition]


Table.__deepcopy__ = _table_copy
DynamoDBBackend.transact_write_items = transact_write_items
Table.query = query
Table.all_items = all_items

if __name__ == "__main__":
    main(sys.argv[1:])
