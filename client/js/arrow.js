// Reads the one int64-wide column of an Arrow IPC stream: the row deltas the page's latency figure
// receives (an event_time view, mode "row"). The viewer bundle has an Arrow reader inside its wasm but
// exports none, and a whole Arrow library would be ~200 kB more for the page to load for one column.
// Format: https://arrow.apache.org/docs/format/Columnar.html#serialization-and-interprocess-communication-ipc
const CONTINUATION = 0xffffffff;
const SCHEMA = 1;
const RECORD_BATCH = 3;
const INT = 2;
const TIMESTAMP = 10;

export class ArrowError extends Error {
  name = "ArrowError";
}

// A flatbuffer table at `at`: the byte offset of field `index`, or 0 if the field is absent.
function field(view, at, index) {
  const vtable = at - view.getInt32(at, true);
  const slot = 4 + 2 * index;
  return slot < view.getUint16(vtable, true) ? view.getUint16(vtable + slot, true) : 0;
}

// A scalar field of a flatbuffer table, read by `read` at its position, or `absent` when left out.
function scalar(view, at, index, read, absent = 0) {
  const offset = field(view, at, index);
  return offset ? read(at + offset) : absent;
}

function target(view, at, index) {
  const offset = field(view, at, index);
  return offset ? at + offset + view.getUint32(at + offset, true) : 0;
}

function int64(view, at) {
  return view.getUint32(at, true) + view.getInt32(at + 4, true) * 2 ** 32;
}

// The (offset, length) pairs of a RecordBatch's buffers vector.
function buffers(view, batch) {
  const vector = target(view, batch, 2);
  const count = vector ? view.getUint32(vector, true) : 0;
  return Array.from({ length: count }, (_, i) => [int64(view, vector + 4 + 16 * i), int64(view, vector + 12 + 16 * i)]);
}

// Refuses any schema but a single 64-bit integer or timestamp column: a silent misread would be worse.
function checkSchema(view, schema) {
  const fields = target(view, schema, 1);
  const count = fields ? view.getUint32(fields, true) : 0;
  if (count !== 1) throw new ArrowError(`expected one column, the stream has ${count}`);
  const first = fields + 4 + view.getUint32(fields + 4, true);
  const kind = scalar(view, first, 2, (at) => view.getUint8(at));
  const type = target(view, first, 3);
  const bits = kind === INT && type ? scalar(view, type, 0, (at) => view.getInt32(at, true), 64) : 64;
  if ((kind !== INT && kind !== TIMESTAMP) || bits !== 64) {
    throw new ArrowError(`expected a 64-bit integer or timestamp column, got type ${kind} of ${bits} bits`);
  }
}

function readBatch(view, batch, body, values) {
  if (field(view, batch, 3)) throw new ArrowError("compressed record batches are not read here");
  const rows = scalar(view, batch, 0, (at) => int64(view, at));
  const [[validityAt, validityLength], [dataAt, dataLength]] = buffers(view, batch);
  if (dataLength < rows * 8) throw new ArrowError(`${rows} rows but ${dataLength} data bytes`);
  for (let row = 0; row < rows; row += 1) {
    const valid = !validityLength || (view.getUint8(body + validityAt + (row >> 3)) >> (row & 7)) & 1;
    if (valid) values.push(int64(view, body + dataAt + 8 * row));
  }
}

// Every non-null value of the stream's column, in order, as Numbers (exact below 2^53: ms timestamps).
export function int64Column(buffer) {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = [];
  let at = 0;
  let schemaSeen = false;
  while (at + 4 <= view.byteLength) {
    let length = view.getUint32(at, true);
    at += 4;
    if (length === CONTINUATION) {
      length = view.getUint32(at, true);
      at += 4;
    }
    if (length === 0) break;  // end of stream
    if (at + length > view.byteLength) throw new ArrowError("stream cut short in a message header");
    const message = at + view.getUint32(at, true);
    const kind = scalar(view, message, 1, (at) => view.getUint8(at));
    const header = target(view, message, 2);
    const bodyLength = scalar(view, message, 3, (at) => int64(view, at));
    const body = at + length;
    if (body + bodyLength > view.byteLength) throw new ArrowError("stream cut short in a message body");
    if (kind === SCHEMA) {
      checkSchema(view, header);
      schemaSeen = true;
    } else if (kind === RECORD_BATCH) {
      if (!schemaSeen) throw new ArrowError("a record batch before the schema");
      readBatch(view, header, body, values);
    }
    at = body + bodyLength;
  }
  return values;
}
