#!/usr/bin/env python3
"""A connector for ecma-host, in Python (standard library only), that serves a JSON file.

It speaks the worker protocol (plugin-api/docs/worker-protocol.md) over stdin and stdout:
an application runs it with `connector_command = ["/path/to/json_connector.py"]`. The file
holds one list of objects per object type:

    {"User": [{"id": "ada", "userName": "ada@contoso.com", "disabled": false}],
     "Group": [{"id": "admins", "displayName": "Admins", "members": ["ada"]}]}

It is one file of some 900 lines on purpose, past the repository's 800-line mark: a third
party copies one executable and needs nothing else to run it. It reads top to bottom: the
frames on the pipes, the packed import page, the JSON file (read, locked, rewritten
atomically), the connector (parameters, schema, import, export, passwords), and the loop
that answers the host's calls. README.md next to it says how to write your own from it.
"""

import base64
import errno
import fcntl
import hashlib
import hmac
import json
import os
import queue
import struct
import sys
import threading
import time
import uuid

PROTOCOL = 1
# The optional parts of the protocol this worker implements, announced in its hello.
FEATURES = ["export"]
NAME = "python-json"
VERSION = "1.0.0"
MAX_FRAME = 64 * 1024 * 1024
KIND_JSON, KIND_PAGE = 1, 2
PAGE_FORMAT = 3
# The attribute the host puts an initial password in, inside an Add, when the connector
# declares export_password_in_first_pass (plugin_api::model::EXPORT_PASSWORD_ATTRIBUTE).
EXPORT_PASSWORD_ATTRIBUTE = "export_password"
# Keys starting with this are the connector's own (the password hash): never imported.
PRIVATE_PREFIX = "_"
PASSWORD_KEY = "_password"
PBKDF2_ITERATIONS = 100_000

P_FILE = "File"
P_LOCK_WAIT = "Lock wait"
P_TYPES = "Object types"
P_ANCHOR = "Anchor attribute"
P_REFERENCES = "Reference attributes"
DEFAULTS = {P_LOCK_WAIT: "10", P_TYPES: "User, Group", P_ANCHOR: "id", P_REFERENCES: "members"}

DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 100, 10_000


class ConnectorError(Exception):
    """A call that fails: `kind` is one of the protocol's ErrorKind names; `parameter` names
    the parameter at fault, for validate_config's answer."""

    def __init__(self, kind, message, parameter=None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.parameter = parameter


class ProtocolError(Exception):
    """The host broke the framing: the worker cannot go on."""


# ---------------------------------------------------------------------------------------------
# Frames. stdout belongs to the protocol: fd 1 is pointed at stderr (so a stray print cannot
# corrupt a frame), and frames go to a private copy of the original stdout.


def protocol_pipes():
    out = os.fdopen(os.dup(1), "wb")
    inp = os.fdopen(os.dup(0), "rb")
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdout = sys.stderr
    return inp, out


def read_exact(f, n):
    data = b""
    while len(data) < n:
        chunk = f.read(n - len(data))
        if not chunk:
            return data
        data += chunk
    return data


def read_frame(f):
    """(kind, body), or None at a clean end of input."""
    head = read_exact(f, 4)
    if not head:
        return None
    if len(head) < 4:
        raise ProtocolError("the input ends inside a frame length")
    (length,) = struct.unpack("<I", head)
    if length == 0 or length > MAX_FRAME:
        raise ProtocolError(f"bad frame length {length}")
    body = read_exact(f, length)
    if len(body) != length:
        raise ProtocolError("the input ends inside a frame")
    return body[0], body[1:]


class Output:
    """Frames to the host; a lock, so that a log line never lands inside another frame."""

    def __init__(self, f):
        self.f = f
        self.lock = threading.Lock()

    def json(self, message):
        data = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
        self._write(struct.pack("<IB", len(data) + 1, KIND_JSON) + data)

    def page(self, call_id, entries, more, custom_data, page_bytes):
        cd = custom_data.encode()
        header = struct.pack("<QIBI", call_id, entries, int(more), len(cd)) + cd
        self._write(struct.pack("<IB", 1 + len(header) + len(page_bytes), KIND_PAGE) + header + page_bytes)

    def log(self, level, message):
        self.json({"type": "log", "level": level, "target": NAME, "message": message})

    def _write(self, data):
        with self.lock:
            self.f.write(data)
            self.f.flush()


# ---------------------------------------------------------------------------------------------
# The packed import page (plugin-api/src/page/mod.rs): entries, then the name table.

OBJECT_MODIFICATION = {"Add": 0, "Replace": 1, "Update": 2, "Delete": 3, "None": 4}
ENTRY_ERROR = {"CustomContinueRun": 0, "CustomStopRun": 1, "InvalidAttributeValue": 2, "MissingAnchor": 3, "ParseError": 4}
VALUE_TAG = {"String": 0, "Integer": 1, "Boolean": 2, "Binary": 3, "Reference": 4}
REC_END, REC_ANCHOR, REC_CHANGE, REC_ERROR, REC_ADD_ONE = 0, 1, 2, 3, 4
ATTR_ADD, VALUE_ADD = 0, 0


def put_str(buf, text):
    b = text if isinstance(text, bytes) else text.encode()
    buf += struct.pack("<I", len(b))
    buf += b


def put_value(buf, value):
    """`value` in the model's JSON form: {"String": "x"}, {"Integer": 5}, ..."""
    ((kind, v),) = value.items()
    buf.append(VALUE_TAG[kind])
    if kind == "Integer":
        buf += struct.pack("<q", v)
    elif kind == "Boolean":
        buf.append(1 if v else 0)
    elif kind == "Binary":
        put_str(buf, bytes(v))
    else:
        put_str(buf, v)


class PageWriter:
    def __init__(self):
        self.buf = bytearray([PAGE_FORMAT])
        self.names = {}
        self.entries = 0

    def name(self, text):
        if text not in self.names:
            self.names[text] = len(self.names)
        return struct.pack("<I", self.names[text])

    def entry(self, modification, object_type, identifier, dn="", anchors=(), attributes=(), error=None):
        """One entry: `anchors` [(name, value)], `attributes` [(name, [value, ...])] all
        added, `error` (code, name, detail) for an entry the connector could not read."""
        buf = self.buf
        buf.append(OBJECT_MODIFICATION[modification])
        if identifier == dn:
            buf.append(1)  # the identifier is the dn: written once
        else:
            buf.append(0)
            put_str(buf, identifier)
        buf += self.name(object_type)
        put_str(buf, dn)
        for name, value in anchors:
            buf.append(REC_ANCHOR)
            buf += self.name(name)
            put_value(buf, value)
        for name, values in attributes:
            if len(values) == 1:
                buf.append(REC_ADD_ONE)
                buf += self.name(name)
                put_value(buf, values[0])
                continue
            packed = bytearray()
            for v in values:
                packed.append(VALUE_ADD)
                put_value(packed, v)
            buf.append(REC_CHANGE)
            buf += self.name(name)
            buf.append(ATTR_ADD)
            buf += struct.pack("<II", len(values), len(packed))
            buf += packed
        if error is not None:
            code, name, detail = error
            buf.append(REC_ERROR)
            buf.append(ENTRY_ERROR[code])
            put_str(buf, name)
            put_str(buf, detail)
        buf.append(REC_END)
        self.entries += 1

    def finish(self):
        names_at = len(self.buf)
        table = bytearray()
        for text in self.names:  # dicts keep insertion order: index order
            put_str(table, text)
        return bytes(self.buf + table + struct.pack("<I", names_at))


# ---------------------------------------------------------------------------------------------
# Values between the file (plain JSON) and the model's typed JSON form.


def typed(v, reference=False):
    """A file value as a model value, or None for one that has no value (null)."""
    if v is None:
        return None
    if reference:
        return {"Reference": v if isinstance(v, str) else json.dumps(v)}
    if isinstance(v, bool):
        return {"Boolean": v}
    if isinstance(v, int) and -(2**63) <= v < 2**63:
        return {"Integer": v}
    if isinstance(v, str):
        return {"String": v}
    return {"String": json.dumps(v, ensure_ascii=False)}


def plain(value):
    """A model value as it is written into the file."""
    if not isinstance(value, dict) or len(value) != 1:
        raise ConnectorError("InvalidInput", f"not a value: {value!r}")
    ((kind, v),) = value.items()
    if kind == "Binary":
        return base64.b64encode(bytes(v)).decode()
    if kind in VALUE_TAG:
        return v
    raise ConnectorError("InvalidInput", f"unknown value kind {kind!r}")


def text_of(value):
    v = plain(value)
    return v if isinstance(v, str) else json.dumps(v)


def data_type_of(v):
    if isinstance(v, bool):
        return "Boolean"
    if isinstance(v, int):
        return "Integer"
    return "String"


# ---------------------------------------------------------------------------------------------
# Settings: the application's parameters, with the connector's defaults.


def parameter(config, name):
    params = (config or {}).get("params") or {}
    for key, p in params.items():
        if key.lower() == name.lower() and isinstance(p, dict):
            return str(p.get("value", "")).strip()
    return DEFAULTS.get(name, "")


def names_list(text):
    return [n.strip() for n in text.split(",") if n.strip()]


class Settings:
    def __init__(self, config):
        self.file = parameter(config, P_FILE)
        if not self.file:
            raise ConnectorError("Config", f"the parameter '{P_FILE}' is required: the path of the JSON file", P_FILE)
        if not os.path.isabs(self.file):
            raise ConnectorError("Config", f"'{P_FILE}' must be an absolute path, not '{self.file}' (the worker runs in /)", P_FILE)
        try:
            self.lock_wait = float(parameter(config, P_LOCK_WAIT))
        except ValueError:
            raise ConnectorError("Config", f"'{P_LOCK_WAIT}' must be a number of seconds", P_LOCK_WAIT) from None
        self.types = names_list(parameter(config, P_TYPES))
        self.anchor = parameter(config, P_ANCHOR)
        self.references = set(names_list(parameter(config, P_REFERENCES)))
        if not self.types:
            raise ConnectorError("Config", f"'{P_TYPES}' names no object type", P_TYPES)
        if not self.anchor:
            raise ConnectorError("Config", f"'{P_ANCHOR}' is empty", P_ANCHOR)

    def object_type(self, name):
        """The served object type of that name (any case), or None."""
        return next((t for t in self.types if t.lower() == (name or "").lower()), None)


# ---------------------------------------------------------------------------------------------
# The JSON file: read whole, locked for read-modify-write, rewritten atomically.


def load(settings):
    try:
        with open(settings.file, "rb") as f:
            data = json.loads(f.read().decode("utf-8"))
    except FileNotFoundError:
        raise ConnectorError("Connection", f"{settings.file} does not exist") from None
    except PermissionError:
        raise ConnectorError("Connection", f"{settings.file} cannot be read: permission denied") from None
    except OSError as e:
        raise ConnectorError("Connection", f"{settings.file} cannot be read: {e.strerror}") from None
    except UnicodeDecodeError:
        raise ConnectorError("Internal", f"{settings.file} is not UTF-8") from None
    except json.JSONDecodeError as e:
        raise ConnectorError("Internal", f"{settings.file} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}") from None
    if not isinstance(data, dict):
        raise ConnectorError("Internal", f"{settings.file} must hold a JSON object with one list per object type")
    for t in settings.types:
        objects = data.setdefault(t, [])
        if not isinstance(objects, list):
            raise ConnectorError("Internal", f"{settings.file}: '{t}' must be a list of objects")
    return data


def save(settings, data):
    """Writes a new copy beside the file and renames it over the file: a reader sees the old
    file or the new one, never half of one, and a crash leaves the old one."""
    path = settings.file
    folder = os.path.dirname(path) or "/"
    try:
        old = os.stat(path)
    except FileNotFoundError:
        old = None
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    for _ in range(8):
        tmp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
        try:
            # O_EXCL: a file or symbolic link planted under the name is never opened.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            break
        except FileExistsError:
            continue
    else:
        raise ConnectorError("Connection", f"no free temporary file name in {folder}")
    try:
        with os.fdopen(fd, "wb") as f:
            if old is not None:
                if (old.st_uid, old.st_gid) != (os.fstat(f.fileno()).st_uid, os.fstat(f.fileno()).st_gid):
                    os.fchown(f.fileno(), old.st_uid, old.st_gid)
                os.fchmod(f.fileno(), old.st_mode & 0o777)
            f.write(text.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise ConnectorError("Connection", f"cannot write {path}: {e.strerror}") from None


class FileLock:
    """The file's advisory lock (`<file>.lock`), so that two writers (two hosts, another
    tool) never lose each other's changes. Waits `Lock wait` seconds, then a retryable
    Connection error."""

    def __init__(self, settings, cancelled):
        self.settings = settings
        self.cancelled = cancelled
        self.fd = None

    def __enter__(self):
        path = self.settings.file + ".lock"
        try:
            self.fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        except OSError as e:
            raise ConnectorError("Connection", f"cannot open the lock file {path}: {e.strerror}") from None
        deadline = time.monotonic() + self.settings.lock_wait
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except OSError as e:
                if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN) or time.monotonic() >= deadline:
                    os.close(self.fd)
                    raise ConnectorError("Connection", f"{path} is locked by another writer (waited {self.settings.lock_wait:g} s); try again later") from None
            if self.cancelled.is_set():
                os.close(self.fd)
                raise ConnectorError("Cancelled", "cancelled while waiting for the file's lock")
            time.sleep(0.02)

    def __exit__(self, *exc):
        os.close(self.fd)  # closing releases the lock


# ---------------------------------------------------------------------------------------------
# Passwords: stored as a salted PBKDF2 hash under a private key, never as text.


def password_hash(password):
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, PBKDF2_ITERATIONS)
    return f"pbkdf2_sha256${PBKDF2_ITERATIONS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def password_matches(stored, password):
    try:
        scheme, iterations, salt, digest = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        got = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
        return hmac.compare_digest(got, base64.b64decode(digest))
    except (AttributeError, ValueError):
        return False


# ---------------------------------------------------------------------------------------------
# The connector: what each call of the message catalogue does.


def parameter_definition(name, kind, description="", default="", validation="", required=False):
    return {"name": name, "kind": kind, "description": description, "validation": validation,
            "default_value": default, "dropdown_values": [], "dropdown_extensible": False,
            "checkbox_default": False, "required": required, "aliases": []}


def config_parameters(page):
    if page == "connectivity":
        return [
            parameter_definition(P_FILE, "File", "Absolute path of the JSON file: one list of objects per object type", required=True),
            parameter_definition(P_LOCK_WAIT, "String", "Seconds an export waits for another writer's lock on the file before it fails (retryable)", DEFAULTS[P_LOCK_WAIT], r"^[0-9]+(\.[0-9]+)?$"),
        ]
    if page == "schema":
        return [
            parameter_definition(P_TYPES, "String", "Comma-separated object types: the file's top-level keys this connector serves", DEFAULTS[P_TYPES]),
            parameter_definition(P_ANCHOR, "String", "The attribute whose value identifies an object (generated when an Add has none)", DEFAULTS[P_ANCHOR]),
            parameter_definition(P_REFERENCES, "String", "Comma-separated attributes holding the anchors of other objects (a group's members)", DEFAULTS[P_REFERENCES]),
        ]
    return []


def validate_config(config, page):
    def failure(name, message):
        return {"Failure": {"parameter": name, "message": message}}

    try:
        settings = Settings(config)
    except ConnectorError as e:
        return failure(e.parameter or P_FILE, e.message)
    if page == "connectivity":
        try:
            load(settings)
        except ConnectorError as e:
            return failure(P_FILE, e.message)
    return "Success"


def capabilities():
    return {
        "distinguished_name_style": "Generic", "object_rename": False,
        "no_reference_values_in_first_export": False, "delta_import": False,
        "concurrent_operation": False, "delete_add_as_replace": False,
        # An initial password comes inside the Add: a create is one write of the file.
        "export_password_in_first_pass": True, "full_export": False,
        "object_confirmation": "Normal", "export_type": "AttributeUpdate",
        "normalizations": {"uppercase": False, "remove_accents": False},
        "is_dn_as_anchor": False, "support_import": True, "support_export": True,
        "support_partitions": False, "support_password": True, "support_hierarchy": False,
        "import_default_page_size": DEFAULT_PAGE_SIZE, "import_max_page_size": MAX_PAGE_SIZE,
        "export_default_batch_size": 1, "export_max_batch_size": 1000,
        "delta_sees_deletes": False,
    }


def schema(settings):
    """Each object type with the attributes its objects have in the file (a type inferred
    from the values: true/false Boolean, whole numbers Integer, anything else String; a list
    makes it multi-valued), the anchor first and the reference attributes as references."""
    data = load(settings)
    types = []
    for t in settings.types:
        seen = {}  # name -> (set of data types, multi-valued)
        for obj in data[t]:
            if not isinstance(obj, dict):
                continue
            for key, v in obj.items():
                if key.startswith(PRIVATE_PREFIX) or key == settings.anchor:
                    continue
                kinds, multi = seen.get(key, (set(), False))
                for item in v if isinstance(v, list) else [v]:
                    if item is not None:
                        kinds.add(data_type_of(item))
                seen[key] = (kinds, multi or isinstance(v, list))
        if t.lower() == "group":
            for name in settings.references:
                seen.setdefault(name, (set(), True))
        attributes = [attribute(settings.anchor, "String", False, is_anchor=True)]
        for key, (kinds, multi) in seen.items():
            if key in settings.references:
                attributes.append(attribute(key, "Reference", True))
            else:
                attributes.append(attribute(key, kinds.pop() if len(kinds) == 1 else "String", multi))
        types.append({"name": t, "locked": True, "attributes": attributes,
                      "anchor_attributes": [settings.anchor], "possible_dn_components": []})
    return {"types": types}


def attribute(name, data_type, multi, is_anchor=False):
    return {"name": name, "data_type": data_type, "multi_valued": multi,
            "operation": "ImportExport", "is_anchor": is_anchor, "hidden_by_default": False}


def anchor_of(settings, entry):
    """The anchor an entry names: its anchor attribute, else the anchor in its changes."""
    for a in entry.get("anchor") or []:
        if a.get("name", "").lower() == settings.anchor.lower():
            return text_of(a["value"])
    for c in entry.get("changes") or []:
        if c.get("name") == settings.anchor:
            for v in c.get("values") or []:
                if v.get("modification") == "Add":
                    return text_of(v["value"])
    return None


def find(objects, settings, anchor):
    for i, obj in enumerate(objects):
        if isinstance(obj, dict) and str(obj.get(settings.anchor)) == anchor:
            return i
    return None


class Instance:
    """The worker's one connector instance (create_instance): an import run, export
    batches and password calls against the file."""

    def __init__(self, config, out, cancelled):
        self.settings = Settings(config)
        self.out = out
        self.cancelled = cancelled
        self.run = None
        self.multi = {}  # (object type, attribute) -> multi-valued, from open_export's schema
        self.export_schema = None  # the schema of the last `export` call that carried one
        out.log("debug", f"{NAME} connector on {self.settings.file}")

    def check_cancelled(self):
        if self.cancelled.is_set():
            raise ConnectorError("Cancelled", "the host cancelled the call")

    def test_connection(self):
        load(self.settings)

    # -- import --------------------------------------------------------------------------

    def open_import(self, msg):
        if msg.get("import_type") != "Full":
            raise ConnectorError("Unsupported", "the JSON connector has no delta import; run a full import")
        size = msg.get("page_size") or DEFAULT_PAGE_SIZE
        if not isinstance(size, int) or size < 0:
            raise ConnectorError("InvalidInput", f"page_size must be a positive integer, not {size!r}")
        wanted = {t.get("name") for t in (msg.get("schema") or {}).get("types") or []}
        data = load(self.settings)
        # The objects as they were when the run opened: a write meanwhile does not shift
        # the pages of this run.
        objects = [(t, obj) for t in self.settings.types if not wanted or t in wanted for obj in data[t]]
        self.run = {"objects": objects, "at": 0, "size": min(size, MAX_PAGE_SIZE), "seen": set()}
        return ""

    def get_import_page(self):
        if self.run is None:
            raise ConnectorError("InvalidInput", "get_import_page before open_import")
        run, page = self.run, PageWriter()
        while run["at"] < len(run["objects"]) and page.entries < run["size"]:
            self.check_cancelled()
            t, obj = run["objects"][run["at"]]
            self.write_object(page, t, obj, run["at"], run["seen"])
            run["at"] += 1
        return page, run["at"] < len(run["objects"])

    def write_object(self, page, t, obj, position, seen=None):
        where = f"{t}[{position}]"
        if not isinstance(obj, dict):
            page.entry("Add", t, where, error=("ParseError", where, "not a JSON object"))
            return
        anchor = obj.get(self.settings.anchor)
        if anchor in (None, "") or isinstance(anchor, (dict, list)):
            page.entry("Add", t, where, error=("MissingAnchor", where, f"no '{self.settings.anchor}'"))
            return
        anchor = str(anchor)
        if seen is not None:
            if (t, anchor) in seen:
                page.entry("Add", t, where, error=("InvalidAttributeValue", where, f"a second object with {self.settings.anchor} = {anchor!r}"))
                return
            seen.add((t, anchor))
        attributes = [(self.settings.anchor, [{"String": anchor}])]
        for key, v in obj.items():
            if key.startswith(PRIVATE_PREFIX) or key == self.settings.anchor:
                continue
            ref = key in self.settings.references
            values = [typed(x, ref) for x in (v if isinstance(v, list) else [v])]
            values = [x for x in values if x is not None]
            if values:
                attributes.append((key, values))
        page.entry("Add", t, anchor, anchors=[(self.settings.anchor, {"String": anchor})], attributes=attributes)

    def close_import(self):
        self.run = None
        return ""

    def get_full_objects(self, requests):
        """The objects asked for, as a full import reads them, or a Delete for each that the
        file does not hold; a request without an anchor is left unanswered."""
        data, page = load(self.settings), PageWriter()
        for r in requests:
            self.check_cancelled()
            t = self.settings.object_type(r.get("object_type"))
            anchor = anchor_of(self.settings, r)
            if t is None or not anchor:
                continue
            i = find(data[t], self.settings, anchor)
            if i is None:
                page.entry("Delete", t, anchor, dn=r.get("dn") or "", anchors=[(self.settings.anchor, {"String": anchor})])
            else:
                self.write_object(page, t, data[t][i], i)
        return page

    # -- export --------------------------------------------------------------------------

    def open_export(self, msg):
        self.multi = {}
        for t in (msg.get("schema") or {}).get("types") or []:
            for a in t.get("attributes") or []:
                self.multi[(t.get("name"), a.get("name"))] = bool(a.get("multi_valued"))

    def close_export(self):
        """Nothing to release: each put locks, reads and writes the file itself."""

    def export(self, msg):
        """The `export` call (feature "export"): open, put and close in one round trip. The
        host leaves the schema out while it is the one of the last `export` that carried it."""
        if msg.get("schema") is not None:
            self.export_schema = msg["schema"]
        elif self.export_schema is None:
            raise ConnectorError("Internal", "an export without a schema came before any export with one")
        self.open_export({"schema": self.export_schema})
        try:
            results = self.put_export_entries(msg.get("entries"))
        except Exception:
            try:
                self.close_export()
            except Exception:
                pass  # the put's error wins: it says why the entries were not exported
            raise
        self.close_export()
        return results

    def put_export_entries(self, entries):
        if not isinstance(entries, list):
            raise ConnectorError("InvalidInput", "entries must be a list")
        with FileLock(self.settings, self.cancelled):
            data = load(self.settings)
            results = []
            for e in entries:
                self.check_cancelled()
                results.append(self.apply(data, e))
            failed = sum(1 for r in results if r["code"] != "Success")
            if failed < len(results):
                save(self.settings, data)
        if failed:
            self.out.log("info", f"exported {len(results)} entries, {failed} refused")
        return results

    def apply(self, data, e):
        """One entry, against the file in memory: its ExportResult."""
        ident = str(e.get("identifier", "")) if isinstance(e, dict) else ""

        def fail(code, detail):
            return {"identifier": ident, "code": code, "error_name": f"ExportError{code}",
                    "error_detail": detail, "anchor_changes": []}

        if not isinstance(e, dict):
            return fail("SyntaxViolation", "an entry must be an object")
        t = self.settings.object_type(e.get("object_type"))
        if t is None:
            return fail("SyntaxViolation", f"object type {e.get('object_type')!r} is not one of {self.settings.types}")
        modification = e.get("modification")
        try:
            anchor = anchor_of(self.settings, e)
            objects = data[t]
            if modification == "Add":
                anchor = anchor or str(uuid.uuid4())
                if find(objects, self.settings, anchor) is not None:
                    return fail("ConnectedDirectoryExistingObject", f"a {t} with {self.settings.anchor} = {anchor!r} already exists")
                obj = {self.settings.anchor: anchor}
                self.apply_changes(t, obj, e.get("changes") or [])
                objects.append(obj)
                ok = self.success(ident)
                ok["anchor_changes"] = [{"name": self.settings.anchor, "value": {"String": anchor}}]
                return ok
            if modification == "None":
                return self.success(ident)
            if modification not in ("Update", "Replace", "Delete"):
                return fail("SyntaxViolation", f"unknown modification {modification!r}")
            if not anchor:
                return fail("MissingAnchorComponent", f"no value for the anchor '{self.settings.anchor}'")
            i = find(objects, self.settings, anchor)
            if i is None:
                return fail("ConnectedDirectoryMissingObject", f"no {t} with {self.settings.anchor} = {anchor!r}")
            if modification == "Delete":
                del objects[i]
                return self.success(ident)
            obj = dict(objects[i])
            if modification == "Replace":
                obj = {k: v for k, v in obj.items() if k == self.settings.anchor or k.startswith(PRIVATE_PREFIX)}
            self.apply_changes(t, obj, e.get("changes") or [])
            if str(obj.get(self.settings.anchor)) != anchor:
                return fail("ChangeNamingAttribute", f"the anchor '{self.settings.anchor}' cannot be changed")
            objects[i] = obj
            return self.success(ident)
        except ConnectorError as err:
            if err.kind == "Cancelled":
                raise
            return fail("SyntaxViolation", err.message)
        except (AttributeError, KeyError, TypeError, ValueError) as err:
            return fail("SyntaxViolation", f"malformed entry: {type(err).__name__}")

    @staticmethod
    def success(ident):
        return {"identifier": ident, "code": "Success", "error_name": "", "error_detail": "", "anchor_changes": []}

    def apply_changes(self, t, obj, changes):
        for c in changes:
            name, mod = c["name"], c["modification"]
            added = [plain(v["value"]) for v in c.get("values") or [] if v.get("modification") == "Add"]
            deleted = [plain(v["value"]) for v in c.get("values") or [] if v.get("modification") == "Delete"]
            if name == EXPORT_PASSWORD_ATTRIBUTE:
                if added:
                    obj[PASSWORD_KEY] = password_hash(str(added[0]))
                continue
            if name.startswith(PRIVATE_PREFIX):
                raise ConnectorError("InvalidInput", f"attribute names starting with '{PRIVATE_PREFIX}' are the connector's own: '{name}'")
            current = obj.get(name)
            values = current if isinstance(current, list) else ([] if current is None else [current])
            if mod in ("Add", "Replace"):
                values = added
            elif mod == "Update":
                values = [v for v in values if v not in deleted] + [v for v in added if v not in values]
            elif mod == "Delete":
                values = []
            else:
                raise ConnectorError("InvalidInput", f"unknown attribute modification {mod!r} of '{name}'")
            multi = self.multi.get((t, name), isinstance(current, list) or name in self.settings.references or len(values) > 1)
            if not values:
                obj.pop(name, None)
            elif multi:
                obj[name] = values
            elif len(values) == 1:
                obj[name] = values[0]
            else:
                raise ConnectorError("InvalidInput", f"'{name}' is single-valued but got {len(values)} values")

    # -- passwords -----------------------------------------------------------------------

    def set_password(self, target, password, options, old=None):
        t = self.settings.object_type((target or {}).get("object_type"))
        anchor = anchor_of(self.settings, target or {})
        if t is None or not anchor:
            raise ConnectorError("InvalidInput", "the password target names no object type or anchor this connector serves")
        if not isinstance(password, str) or not password:
            raise ConnectorError("InvalidInput", "the new password is empty")
        with FileLock(self.settings, self.cancelled):
            data = load(self.settings)
            i = find(data[t], self.settings, anchor)
            if i is None:
                raise ConnectorError("InvalidInput", f"no {t} with {self.settings.anchor} = {anchor!r}")
            obj = data[t][i]
            if old is not None and not password_matches(obj.get(PASSWORD_KEY), old):
                raise ConnectorError("InvalidInput", "the old password does not match")
            obj[PASSWORD_KEY] = password_hash(password)
            if (options or {}).get("force_change_at_logon"):
                obj["_must_change_password"] = True
            else:
                obj.pop("_must_change_password", None)
            save(self.settings, data)


# ---------------------------------------------------------------------------------------------
# The loop: hello, then one call at a time from a queue a reader thread fills (it takes
# `cancel` at once, while the main thread is busy with the call it cancels).


def reader(inp, calls, cancelled):
    try:
        while True:
            frame = read_frame(inp)
            if frame is None:
                break
            kind, body = frame
            if kind != KIND_JSON:
                raise ProtocolError(f"a frame of kind {kind} from the host")
            try:
                msg = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                raise ProtocolError(f"a message that is not JSON: {e}") from None
            if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
                raise ProtocolError("a message without a type")
            if msg["type"] == "cancel":
                cancelled.set()
            elif msg["type"] == "hello":
                raise ProtocolError("a second hello")
            else:
                calls.put(msg)
    except (ProtocolError, OSError) as e:
        # The host killed the pipe's sense: nothing more can be understood on it.
        print(f"{NAME}: the host broke the protocol: {e}", file=sys.stderr, flush=True)
        os._exit(2)
    calls.put(None)


class Worker:
    def __init__(self, out, cancelled):
        self.out = out
        self.cancelled = cancelled
        self.instance = None

    def answer(self, msg):
        call_id = msg.get("id")
        if not isinstance(call_id, int) or isinstance(call_id, bool) or call_id < 0:
            raise ProtocolError(f"a '{msg['type']}' call without a valid id")
        try:
            value = self.dispatch(msg)
            if isinstance(value, tuple):  # an import page, and whether more follow
                page, more = value
                page_bytes = page.finish()
                if len(page_bytes) > MAX_FRAME - 1024:
                    raise ConnectorError("Internal", f"an import page of {len(page_bytes)} bytes is over the frame limit; import in smaller pages")
        except ConnectorError as e:
            self.out.json({"type": "error", "id": call_id, "kind": e.kind, "message": e.message})
            return
        except Exception as e:  # a bug here must not end the worker: the call fails, the next one runs
            print(f"{NAME}: '{msg['type']}' failed: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
            self.out.json({"type": "error", "id": call_id, "kind": "Internal", "message": f"the connector failed: {type(e).__name__}"})
            return
        if isinstance(value, tuple):
            self.out.page(call_id, page.entries, more, "", page_bytes)
        else:
            self.out.json({"type": "result", "id": call_id, "value": value})

    def dispatch(self, msg):
        call, config = msg["type"], msg.get("config")
        if call == "capabilities":
            return capabilities()
        if call == "config_parameters":
            return config_parameters(msg.get("page"))
        if call == "validate_config":
            return validate_config(config, msg.get("page"))
        if call == "schema":
            return schema(Settings(config))
        if call == "partitions":
            return []
        if call == "create_instance":
            if self.instance is not None:
                raise ConnectorError("Internal", "this worker already has its connector instance")
            self.instance = Instance(config, self.out, self.cancelled)
            return None
        instance_calls = {
            "test_connection": lambda i: i.test_connection(),
            "open_import": lambda i: i.open_import(msg),
            "get_import_page": lambda i: i.get_import_page(),
            "close_import": lambda i: i.close_import(),
            "open_export": lambda i: i.open_export(msg),
            "put_export_entries": lambda i: i.put_export_entries(msg.get("entries")),
            "close_export": lambda i: i.close_export(),
            "export": lambda i: i.export(msg),
            "set_password": lambda i: i.set_password(msg.get("target"), msg.get("password"), msg.get("options")),
            "change_password": lambda i: i.set_password(msg.get("target"), msg.get("new_password"), {}, old=msg.get("old_password") or ""),
            "get_full_objects": lambda i: (i.get_full_objects(msg.get("requests") or []), False),
        }
        if call not in instance_calls:
            raise ConnectorError("Unsupported", f"this connector does not know the call '{call}'")
        if self.instance is None:
            raise ConnectorError("Internal", f"'{call}' came before create_instance")
        return instance_calls[call](self.instance)


def main():
    inp, out_file = protocol_pipes()
    out = Output(out_file)
    try:
        frame = read_frame(inp)
        hello = json.loads(frame[1].decode("utf-8")) if frame and frame[0] == KIND_JSON else None
    except (ProtocolError, UnicodeDecodeError, json.JSONDecodeError) as e:
        print(f"{NAME}: reading the host's hello: {e}", file=sys.stderr, flush=True)
        return 2
    if not isinstance(hello, dict) or hello.get("type") != "hello":
        print(f"{NAME}: the host did not start with hello", file=sys.stderr, flush=True)
        return 2
    if hello.get("protocol") != PROTOCOL:
        error = f"this worker speaks worker protocol version {PROTOCOL}; the host speaks version {hello.get('protocol')}"
        print(f"{NAME}: {error}", file=sys.stderr, flush=True)
        out.json({"type": "hello", "protocol": PROTOCOL, "error": error})
        return 1
    out.json({"type": "hello", "protocol": PROTOCOL, "connector": {
        "name": NAME, "version": VERSION, "vendor": "ecma-host",
        "description": "Reads and writes users and groups in a JSON file (Python reference connector)",
        "api_version": f"worker-protocol-{PROTOCOL}"}, "features": FEATURES})
    calls, cancelled = queue.Queue(), threading.Event()
    threading.Thread(target=reader, args=(inp, calls, cancelled), daemon=True).start()
    worker = Worker(out, cancelled)
    while True:
        msg = calls.get()
        if msg is None:  # the host closed stdin: done
            return 0
        try:
            worker.answer(msg)
        except ProtocolError as e:
            print(f"{NAME}: the host broke the protocol: {e}", file=sys.stderr, flush=True)
            return 2
        except OSError:  # the host is gone
            return 2


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
