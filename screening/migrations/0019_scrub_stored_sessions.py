"""Takes out of the stored sessions what the code no longer puts there, nor reads.

Before codes to show once waited in a signed cookie (``with_code_to_show``), they waited in the session, in
plaintext: ``show_codes`` (a reference and its access code) and ``show_resume_code`` (a resume code), until the page
that showed them was opened; never, when it was not. An access code opens its submission's status page (the
neurologist's message, the withdrawal) for as long as it is valid, and a session row stays in the database until
``clearsessions`` (``purge_drafts``) deletes it, after its expiry, if that command runs at all. And until the queue
sent a reference searched with filters to the reference alone, a neurologist's session kept, for the way back, a
reference with the verdict or decision chosen with it (``queue_query``): what that person's result was, after their
withdrawal too. Each session holding either is decoded, those keys (or those filters) are dropped, and it is saved again with
its expiry unchanged: nobody is signed out or loses the submission they opened, as deleting those sessions would
have done (a neurologist in the middle of the queue). Backups taken before are not changed by this: they go as
backups go.

Only sessions kept in the database are read (``SESSION_ENGINE`` ``db``, the default and the one configured, or
``cached_db``, whose cached copy is dropped so that the next request reads the row); cookie-based sessions are the
browser's, and cache or file ones are not this database's. The code is frozen here, as a migration's must be.
"""

from importlib import import_module
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
from django.core.cache import caches
from django.db import migrations

CODES_TO_SHOW = ("show_codes", "show_resume_code")
QUEUE_QUERY, REFERENCE, HEALTH_FILTERS = "queue_query", "reference", ("verdict", "decision")


def scrubbed(data):
    """The session's data without codes to show nor health filters beside a reference searched, or ``None`` when it
    holds none of them."""
    kept = {key: value for key, value in data.items() if key not in CODES_TO_SHOW}
    query = kept.get(QUEUE_QUERY)
    if isinstance(query, str):
        pairs = parse_qsl(query, keep_blank_values=True)
        if (any(value.strip() for name, value in pairs if name == REFERENCE)
                and any(name in HEALTH_FILTERS for name, _value in pairs)):
            kept[QUEUE_QUERY] = urlencode([(name, value) for name, value in pairs if name not in HEALTH_FILTERS])
    return kept if kept != data else None


def scrub_sessions(apps, schema_editor):
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    if not issubclass(store_class, DatabaseStore):
        return
    store, alias = store_class(), schema_editor.connection.alias
    rows = apps.get_model("sessions", "Session").objects.using(alias)
    changed = {}  # read first, then written: no row is written while the rows are being read
    for key, data in rows.values_list("session_key", "session_data").iterator(chunk_size=2000):
        kept = scrubbed(store.decode(data))
        if kept is not None:
            changed[key] = store.encode(kept)
    prefix = getattr(store_class, "cache_key_prefix", None)  # cached_db
    for key, data in changed.items():
        rows.filter(session_key=key).update(session_data=data)
        if prefix:
            caches[settings.SESSION_CACHE_ALIAS].delete(prefix + key)


class Migration(migrations.Migration):

    dependencies = [
        ("screening", "0018_queue_counts"),
        ("sessions", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(scrub_sessions, migrations.RunPython.noop),
    ]
