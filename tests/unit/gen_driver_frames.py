#!/usr/bin/python3
"""gen_driver_frames - CQL frames made by the DataStax Python driver, as C arrays.

Writes tests/unit/driver_frames.h, which test_cql_proto.c includes:

  * requests (STARTUP, OPTIONS, QUERY, PREPARE, EXECUTE, AUTH_RESPONSE) encoded
    by the driver's own ProtocolHandler.encode_message, so our encoders can be
    compared with them byte for byte;
  * responses (READY, ERROR with every v4 error code, RESULT Void, Set_keyspace,
    Rows, Prepared) written with the driver's protocol primitives (write_int,
    write_string, write_value ...) and its type serializers, then read back by
    the driver's ProtocolHandler.decode_message. The driver has no encoder for
    server messages; what goes into the header is what the driver itself
    decoded, so our decoder is checked against the driver's reading.

Run with Debian's interpreter (python3-cassandra):
    /usr/bin/python3 tests/unit/gen_driver_frames.py > tests/unit/driver_frames.h
"""
import io
import sys

import cassandra
import cassandra.protocol as p
from cassandra import ConsistencyLevel as CL
from cassandra import WriteType
from cassandra import cqltypes as t

H = p.ProtocolHandler
V4 = 4
OUT = []


def emit(line=""):
    OUT.append(line)


def c_bytes(name, data):
    data = bytes(data)
    emit("static const uint8_t %s[] = {" % name)
    for i in range(0, len(data), 12):
        emit("\t" + " ".join("0x%02x," % b for b in data[i:i + 12]))
    if not data:
        emit("\t0")
    emit("};")


def c_str(s):
    if s is None:
        return "NULL"
    if isinstance(s, bytes):
        s = s.decode("utf-8")
    out = '"'
    for ch in s:
        if ch in '"\\':
            out += "\\" + ch
        elif 0x20 <= ord(ch) < 0x7F:
            out += ch
        else:
            out += "".join("\\x%02x" % b for b in ch.encode("utf-8")) + '""'
    return out + '"'


def request(name, msg, stream, version=V4):
    c_bytes(name, H.encode_message(msg, stream, version, None, False))


def response_frame(opcode, stream, body, version=V4):
    f = io.BytesIO()
    f.write(bytes([0x80 | version, 0]))
    f.write(stream.to_bytes(2, "big", signed=True))
    f.write(bytes([opcode]))
    f.write(len(body).to_bytes(4, "big"))
    f.write(body)
    return f.getvalue()


def decode(opcode, stream, body, version=V4, result_metadata=None):
    return H.decode_message(version, {}, stream, 0, opcode, body, None,
                            result_metadata)


# ---- requests -----------------------------------------------------------

PREP_CQL = "SELECT domain, active FROM mailion.domains WHERE domain = ?"
QUERY_CQL = "SELECT release_version FROM system.local"
PREP_ID = bytes(range(0x10, 0x20))


def requests():
    emit("/* ---- requests, encoded by ProtocolHandler.encode_message ---- */")
    emit("#define DRV_QUERY_CQL %s" % c_str(QUERY_CQL))
    emit("#define DRV_PREP_CQL %s" % c_str(PREP_CQL))
    c_bytes("drv_prep_id", PREP_ID)
    request("drv_req_startup", p.StartupMessage(cqlversion="3.0.0", options={}), 0)
    request("drv_req_startup_v3", p.StartupMessage(cqlversion="3.0.0", options={}), 0, 3)
    request("drv_req_options", p.OptionsMessage(), 5)
    request("drv_req_query", p.QueryMessage(QUERY_CQL, CL.LOCAL_ONE), 1)
    request("drv_req_query_v3", p.QueryMessage(QUERY_CQL, CL.ONE), 1, 3)
    request("drv_req_prepare", p.PrepareMessage(PREP_CQL), 2)
    request("drv_req_execute",
            p.ExecuteMessage(PREP_ID, [b"example.com"], CL.LOCAL_ONE), 3)
    request("drv_req_execute_null",
            p.ExecuteMessage(PREP_ID, [b"a", None], CL.LOCAL_QUORUM), 300)
    # The highest stream id. (ExecuteMessage keeps skip_meta but 3.25 never
    # writes the Skip_metadata flag, so the test sets that bit itself.)
    request("drv_req_execute_maxstream",
            p.ExecuteMessage(PREP_ID, [b"k"], CL.LOCAL_ONE), 32767)
    request("drv_req_auth",
            p.AuthResponseMessage(b"\x00cassandra\x00secret"), 0)
    emit()


# ---- errors -------------------------------------------------------------

def errors():
    cases = []

    def err(code, msg, extra, **want):
        f = io.BytesIO()
        p.write_int(f, code)
        p.write_string(f, msg)
        extra(f)
        body = f.getvalue()
        m = decode(0, 7, body)
        assert m.code == code and m.message == msg, (m.code, m.message)
        cases.append((code, msg, body, m.info, want))

    err(0x0000, "java.lang.NullPointerException", lambda f: None)
    err(0x000A, "Invalid or unsupported protocol version (5)", lambda f: None)
    err(0x0100, "Provided username alice and/or password are incorrect",
        lambda f: None)
    err(0x1000, "Cannot achieve consistency level LOCAL_QUORUM",
        lambda f: (p.write_short(f, CL.LOCAL_QUORUM), p.write_int(f, 2),
                   p.write_int(f, 1)),
        consistency="consistency", required="required_replicas",
        alive="alive_replicas")
    err(0x1001, "Server is overloaded", lambda f: None)
    err(0x1002, "Cannot read from a bootstrapping node", lambda f: None)
    err(0x1003, "Truncate failed", lambda f: None)
    err(0x1100, "Operation timed out - received only 1 responses.",
        lambda f: (p.write_short(f, CL.QUORUM), p.write_int(f, 1),
                   p.write_int(f, 2), p.write_string(f, "BATCH_LOG")),
        consistency="consistency", alive="received_responses",
        required="required_responses", write_type="BATCH_LOG")
    err(0x1200, "Operation timed out - received only 0 responses.",
        lambda f: (p.write_short(f, CL.LOCAL_ONE), p.write_int(f, 0),
                   p.write_int(f, 1), p.write_byte(f, 0)),
        consistency="consistency", alive="received_responses",
        required="required_responses", data_present="data_retrieved")
    err(0x1200, "Operation timed out - data present",
        lambda f: (p.write_short(f, CL.ALL), p.write_int(f, 3),
                   p.write_int(f, 3), p.write_byte(f, 1)),
        consistency="consistency", alive="received_responses",
        required="required_responses", data_present="data_retrieved")
    err(0x1300, "Operation failed - received 1 responses and 2 failures",
        lambda f: (p.write_short(f, CL.QUORUM), p.write_int(f, 1),
                   p.write_int(f, 2), p.write_int(f, 2), p.write_byte(f, 1)),
        consistency="consistency", alive="received_responses",
        required="required_responses", failures="failures",
        data_present="data_retrieved")
    err(0x1400, "execution of 'ks.fn[int, text]' failed",
        lambda f: (p.write_string(f, "mailion"), p.write_string(f, "fn"),
                   p.write_stringlist(f, ["int", "text"])),
        keyspace="keyspace", function="function")
    err(0x1500, "Operation failed - received 0 responses and 1 failures",
        lambda f: (p.write_short(f, CL.EACH_QUORUM), p.write_int(f, 0),
                   p.write_int(f, 2), p.write_int(f, 1),
                   p.write_string(f, "SIMPLE")),
        consistency="consistency", alive="received_responses",
        required="required_responses", failures="failures", write_type="SIMPLE")
    err(0x2000, "line 1:0 no viable alternative at input 'SELEC'", lambda f: None)
    err(0x2100, "User alice has no SELECT permission", lambda f: None)
    err(0x2200, "unconfigured table nosuch", lambda f: None)
    err(0x2300, "Cannot add a counter column", lambda f: None)
    err(0x2400, "Cannot add existing keyspace \"mailion\"",
        lambda f: (p.write_string(f, "mailion"), p.write_string(f, "")),
        keyspace="keyspace", table="table")
    err(0x2400, "Cannot add already existing table \"users\"",
        lambda f: (p.write_string(f, "mailion"), p.write_string(f, "users")),
        keyspace="keyspace", table="table")
    err(0x2500, "Prepared query with ID 101112 not found",
        lambda f: (p.write_short(f, len(PREP_ID)), f.write(PREP_ID)),
        unprepared=True)

    emit("/* ---- ERROR frames: every v4 code, as the driver decoded them ---- */")
    emit("struct drv_error {")
    emit("\tconst uint8_t *frame;")
    emit("\tsize_t len;")
    emit("\tint32_t code;")
    emit("\tconst char *message;")
    emit("\tint consistency, required, alive, failures, data_present;")
    emit("\tconst char *write_type, *keyspace, *table, *function;")
    emit("\tconst uint8_t *unprepared_id;")
    emit("\tsize_t unprepared_id_len;")
    emit("};")
    for i, (code, msg, body, info, want) in enumerate(cases):
        c_bytes("drv_err_%d" % i, response_frame(0, 7, body))
    emit("static const struct drv_error drv_errors[] = {")
    for i, (code, msg, body, info, want) in enumerate(cases):
        def num(key):
            return int(info[want[key]]) if key in want else 0

        def text(key):
            return c_str(info[want[key]]) if key in want else "NULL"
        wt = "NULL"
        if "write_type" in want:
            # The driver maps the name to its WriteType enum.
            assert info["write_type"] == WriteType.name_to_value[want["write_type"]]
            wt = c_str(want["write_type"])
        if want.get("unprepared"):
            assert info == PREP_ID
            unp = "drv_prep_id, sizeof(drv_prep_id)"
        else:
            unp = "NULL, 0"
        emit("\t{ drv_err_%d, sizeof(drv_err_%d), 0x%04x, %s," % (i, i, code, c_str(msg)))
        emit("\t  %d, %d, %d, %d, %d, %s, %s, %s, %s, %s }," % (
            num("consistency"), num("required"), num("alive"), num("failures"),
            num("data_present"), wt, text("keyspace"), text("table"),
            text("function"), unp))
    emit("};")
    emit()


# ---- results ------------------------------------------------------------

SetOfText = t.SetType.apply_parameters([t.UTF8Type])
ListOfText = t.ListType.apply_parameters([t.UTF8Type])
COLUMNS = [
    ("domain", t.UTF8Type, (0x000D,)),
    ("active", t.BooleanType, (0x0004,)),
    ("quota", t.Int32Type, (0x0009,)),
    ("bytes", t.LongType, (0x0002,)),
    ("aliases", SetOfText, (0x0022, 0x000D)),
    ("hops", ListOfText, (0x0020, 0x000D)),
    ("prio", t.ShortType, (0x0013,)),
    ("tiny", t.ByteType, (0x0014,)),
    ("note", t.AsciiType, (0x0001,)),
]
ROWS = [
    ["example.com", True, 1024, 5000000000, ["a@example.com", "b@example.com"],
     ["mx1", "mx2", "mx1"], -2, 7, "plain"],
    ["\u00e9xample.org", False, -1, -9000000000, [], ["x"], 32767, -128, ""],
    ["null.example", None, None, None, None, None, None, None, None],
]


def write_type(f, ids):
    for i in ids:
        p.write_short(f, i)


def cell_text(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple, set, frozenset)) or type(v).__name__ == "SortedSet":
        return "|".join(v)
    return str(v)


def rows_body(flags, paging_state=None, metadata=True):
    f = io.BytesIO()
    p.write_int(f, 2)			# kind: Rows
    p.write_int(f, flags)
    p.write_int(f, len(COLUMNS))
    if flags & 0x0002:
        p.write_value(f, paging_state)
    if metadata:
        if flags & 0x0001:
            p.write_string(f, "mailion")
            p.write_string(f, "domains")
        for name, _, ids in COLUMNS:
            if not flags & 0x0001:
                p.write_string(f, "mailion")
                p.write_string(f, "domains")
            p.write_string(f, name)
            write_type(f, ids)
    p.write_int(f, len(ROWS))
    for row in ROWS:
        for (_, typ, _), v in zip(COLUMNS, row):
            p.write_value(f, None if v is None else typ.serialize(v, V4))
    return f.getvalue()


def results():
    emit("/* ---- RESULT frames, written with the driver's primitives and serializers,")
    emit(" * checked by decoding them with ProtocolHandler.decode_message ---- */")

    m = decode(8, 9, (1).to_bytes(4, "big"))
    assert m.kind == 1
    c_bytes("drv_res_void", response_frame(8, 9, (1).to_bytes(4, "big")))

    f = io.BytesIO()
    p.write_int(f, 3)
    p.write_string(f, "mailion")
    m = decode(8, 9, f.getvalue())
    assert m.new_keyspace == "mailion"
    c_bytes("drv_res_set_keyspace", response_frame(8, 9, f.getvalue()))

    c_bytes("drv_ready", response_frame(2, 0, b""))
    emit()

    # Rows: one with a global table spec, one paged with per-column specs,
    # one without metadata (skip_metadata on EXECUTE).
    emit("#define DRV_NCOLS %d" % len(COLUMNS))
    emit("#define DRV_NROWS %d" % len(ROWS))
    variants = [("drv_res_rows", 0x0001, None, True),
                ("drv_res_rows_paged", 0x0002, b"\x00\x04page", True),
                ("drv_res_rows_nometa", 0x0004, None, False)]
    meta = None
    for name, flags, ps, md in variants:
        body = rows_body(flags, ps, md)
        m = decode(8, 11, body, result_metadata=meta)
        assert m.kind == 2
        assert list(m.column_names) == [c[0] for c in COLUMNS], m.column_names
        if md:
            meta = m.column_metadata
        if ps is not None:
            assert m.paging_state == ps
        for got, want in zip(m.parsed_rows, ROWS):
            for g, w in zip(got, want):
                assert cell_text(g) == cell_text(w), (g, w)
        c_bytes(name, response_frame(8, 11, body))
        parsed = m.parsed_rows
    emit("#define DRV_PAGING_STATE \"\\x00\\x04page\"")
    emit("static const char *const drv_col_names[DRV_NCOLS] = {")
    emit("\t" + ", ".join(c_str(c[0]) for c in COLUMNS))
    emit("};")
    emit("static const uint16_t drv_col_types[DRV_NCOLS][2] = {")
    emit("\t" + ", ".join("{ 0x%04x, 0x%04x }" % (c[2][0], c[2][1] if len(c[2]) > 1 else 0)
                          for c in COLUMNS))
    emit("};")
    emit("/* Each cell as the driver decoded it: text, true/false, decimal,")
    emit(" * collection elements joined with '|' (\"\" for none); NULL for null. */")
    emit("static const char *const drv_cells[DRV_NROWS][DRV_NCOLS] = {")
    for row in parsed:
        emit("\t{ " + ", ".join(c_str(cell_text(g)) for g in row) + " },")
    emit("};")
    emit()

    # Prepared, v4 (partition key indexes) and v3 (none).
    for version in (4, 3):
        f = io.BytesIO()
        p.write_int(f, 4)
        p.write_short(f, len(PREP_ID))
        f.write(PREP_ID)
        p.write_int(f, 0x0001)		# flags: global table spec
        p.write_int(f, 1)		# bind markers
        if version >= 4:
            p.write_int(f, 1)		# partition key columns
            p.write_short(f, 0)
        p.write_string(f, "mailion")
        p.write_string(f, "domains")
        p.write_string(f, "domain")
        p.write_short(f, 0x000D)
        p.write_int(f, 0x0001)		# result metadata
        p.write_int(f, 2)
        p.write_string(f, "mailion")
        p.write_string(f, "domains")
        p.write_string(f, "domain")
        p.write_short(f, 0x000D)
        p.write_string(f, "active")
        p.write_short(f, 0x0004)
        body = f.getvalue()
        m = decode(8, 2, body, version=version)
        assert m.kind == 4 and m.query_id == PREP_ID
        assert [c[2] for c in m.bind_metadata] == ["domain"]
        assert [c[2] for c in m.column_metadata] == ["domain", "active"]
        if version >= 4:
            assert list(m.pk_indexes) == [0]
        c_bytes("drv_res_prepared_v%d" % version,
                response_frame(8, 2, body, version))
    emit()


def main():
    emit("/*")
    emit(" * driver_frames.h - CQL frames from the DataStax Python driver %s" % cassandra.__version__)
    emit(" *")
    emit(" * GENERATED, do not edit. Regenerate with Debian's interpreter:")
    emit(" *   /usr/bin/python3 tests/unit/gen_driver_frames.py > tests/unit/driver_frames.h")
    emit(" * Requests are the driver's own encoding; responses are built with its")
    emit(" * protocol primitives and checked by its decoder (see the script).")
    emit(" */")
    emit("#ifndef DRIVER_FRAMES_H")
    emit("#define DRIVER_FRAMES_H")
    emit()
    emit("#include <stddef.h>")
    emit("#include <stdint.h>")
    emit()
    requests()
    errors()
    results()
    emit("#endif")
    sys.stdout.write("\n".join(OUT) + "\n")


if __name__ == "__main__":
    main()
