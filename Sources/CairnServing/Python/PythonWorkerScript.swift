/// The program each Python worker runs. It is embedded so that `cairn` stays one binary; the
/// pool writes it to a private temporary file at start.
///
/// Protocol, on the worker's stdin/stdout (every message is a 4-byte little-endian length,
/// then that many bytes):
/// - worker → cairn, once: a JSON object, `{"ready": true, …}` or `{"error": "…"}`.
/// - cairn → worker: a JSON object `{"columns": [{"name", "type", "values"}], "parts": [rows…],
///   "params": {…}}`: one batch, the concatenation of several requests' rows.
/// - worker → cairn: for each part, one byte (0 = scored, 1 = failed) and one length-prefixed
///   body: `{"predictions": …}` exactly as `mlflow models serve` writes it, or an error
///   object `{"error_code", "message"}`.
/// The model is called once per batch; its output is split back by rows. When the output
/// cannot be split (not row-aligned) or the batch fails, each part is scored on its own so
/// one bad request cannot fail its neighbours.
enum PythonWorkerScript {
    static let source = #"""
        import io, json, os, struct, sys, traceback

        protocol_out = os.fdopen(os.dup(1), "wb", buffering=0)
        os.dup2(2, 1)  # anything the model prints goes to stderr, never into the protocol
        protocol_in = os.fdopen(os.dup(0), "rb", buffering=0)

        def read_exact(n):
            chunks = []
            while n > 0:
                chunk = protocol_in.read(n)
                if not chunk:
                    sys.exit(0)
                chunks.append(chunk)
                n -= len(chunk)
            return b"".join(chunks)

        def send(payload):
            protocol_out.write(struct.pack("<I", len(payload)) + payload)

        try:
            import numpy as np
            import pandas as pd
            import mlflow
            import mlflow.pyfunc
            from mlflow.pyfunc.scoring_server import predictions_to_json
            from mlflow.utils.proto_json_utils import cast_df_types_according_to_schema
            model = mlflow.pyfunc.load_model(sys.argv[1])
            SCHEMA = model.metadata.get_input_schema() if model.metadata is not None else None
        except BaseException as error:  # report any load failure to cairn, then stop
            send(json.dumps({"error": "".join(traceback.format_exception_only(type(error), error)).strip()}).encode())
            sys.exit(1)

        send(json.dumps({"ready": True, "python": sys.version.split()[0], "mlflow": mlflow.__version__}).encode())

        DTYPES = {"double": "float64", "long": "int64", "bool": "bool", "string": "object"}

        def frame(columns):
            data = {}
            for column in columns:
                values = column["values"]
                kind = column["type"]
                if kind == "double":
                    data[column["name"]] = np.array([np.nan if v is None else v for v in values], dtype="float64")
                elif kind in DTYPES:
                    data[column["name"]] = pd.Series(values, dtype=DTYPES[kind])
                else:
                    data[column["name"]] = values
            return pd.DataFrame(data)

        def encode(predictions):
            buffer = io.StringIO()
            predictions_to_json(predictions, buffer)
            return buffer.getvalue().encode()

        def failure(error):
            code = getattr(error, "error_code", None) or "BAD_REQUEST"
            message = getattr(error, "message", None) or str(error)
            return json.dumps({"error_code": code if isinstance(code, str) else "BAD_REQUEST",
                               "message": "Encountered an unexpected error while evaluating the model. Error: " + message}).encode()

        # Columns take the signature's types before the model sees them, as `mlflow models serve` casts a
        # parsed request (a float32 signature gets float32 columns, not the float64 JSON gives).
        def prepare(df):
            return cast_df_types_according_to_schema(df, SCHEMA) if SCHEMA is not None else df

        def score_one(df, params):
            try:
                df = prepare(df)
                return 0, encode(model.predict(df, params=params) if params else model.predict(df))
            except Exception as error:
                return 1, failure(error)

        def split(predictions, offsets):
            if isinstance(predictions, (pd.DataFrame, pd.Series)):
                return [predictions.iloc[a:b] for a, b in offsets]
            if isinstance(predictions, np.ndarray) or isinstance(predictions, list):
                return [predictions[a:b] for a, b in offsets]
            return None

        while True:
            request = json.loads(read_exact(struct.unpack("<I", read_exact(4))[0]))
            df = frame(request["columns"])
            parts = request["parts"]
            params = request.get("params") or None
            offsets, start = [], 0
            for rows in parts:
                offsets.append((start, start + rows))
                start += rows
            results = None
            if len(parts) == 1:
                results = [score_one(df, params)]
            else:
                try:
                    predictions = model.predict(prepare(df.copy()), params=params) if params else model.predict(prepare(df.copy()))
                    pieces = split(predictions, offsets) if len(predictions) == len(df) else None
                    if pieces is not None:
                        results = [(0, encode(piece)) for piece in pieces]
                except Exception:
                    results = None
                if results is None:
                    results = [score_one(df.iloc[a:b].reset_index(drop=True), params) for a, b in offsets]
            out = [struct.pack("<I", len(results))]
            for status, body in results:
                out.append(struct.pack("<BI", status, len(body)))
                out.append(body)
            send(b"".join(out))
        """#
}
