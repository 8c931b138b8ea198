/**
 * The vector store's schema in IRIS, created idempotently over `iris session`: the same statements
 * the vectorizer uses (vectorizer/stores/irisSql.ts), each index created only when it does not exist
 * yet, the HNSW index only where the IRIS version has it (2024.1 and later; exact search otherwise).
 */
import {
  IRIS_INDEX_EXISTS_SQL,
  irisIndexes,
  irisRecordDimensionSql,
  irisSchemaStatements,
  irisTableName,
} from "../../vectorizer/stores/irisSql";
import { validateTableName } from "../../vectorizer/stores/store";
import { ScriptOptions, scriptPrelude, shInt, shQuote } from "../shell";
import { RESULT_MARKER, irisSessionStep, objectScriptLine, objectScriptString } from "./objectScript";

export interface IrisSchemaSpec {
  readonly service: string;
  readonly containerName: string;
  readonly namespace: string;
  readonly table: string;
  readonly dimension: number;
}

/** ObjectScript that runs one SQL statement and reports its SQLCODE (negative is an error). */
function execLine(label: string, sql: string, params: readonly string[] = []): string {
  const args = [objectScriptString(sql), ...params.map(objectScriptString)].join(",");
  return `set rs=##class(%SQL.Statement).%ExecDirect(,${args}) write "${RESULT_MARKER} ",rs.%SQLCODE," ${label}",!`;
}

/** Creates an index only when INFORMATION_SCHEMA does not list it. */
function indexLine(label: string, schema: string, table: string, index: string, sql: string, guard = "1"): string {
  const exists = [IRIS_INDEX_EXISTS_SQL, schema.toUpperCase(), table.toUpperCase(), index.toUpperCase()]
    .map(objectScriptString)
    .join(",");
  return `if ${guard} { set q=##class(%SQL.Statement).%ExecDirect(,${exists}) do q.%Next() if q.%Get("n")=0 { set rs=##class(%SQL.Statement).%ExecDirect(,${objectScriptString(sql)}) write "${RESULT_MARKER} ",rs.%SQLCODE," ${label}",! } else { write "${RESULT_MARKER} 0 ${label} (exists)",! } } else { write "${RESULT_MARKER} 0 ${label} (skipped: IRIS before 2024.1 searches exactly)",! }`;
}

export function renderIrisSchemaScript(spec: IrisSchemaSpec, options: ScriptOptions = {}): string {
  // The name goes into SQL text (as a delimited identifier) inside ObjectScript literals.
  const problem = validateTableName(spec.table);
  if (problem) throw new Error(problem);
  const name = irisTableName(spec.table);
  const { tables } = irisSchemaStatements(name, spec.dimension, true);
  const [sourceIndex, hnswIndex] = irisIndexes(name, true);
  const lines = [
    // HNSW indexes exist from 2024.1 on.
    `set hnsw=($SYSTEM.Version.GetMajor()>2024)||(($SYSTEM.Version.GetMajor()=2024)&&($SYSTEM.Version.GetMinor()>=1))`,
    execLine("table", tables[0]),
    execLine("meta-table", tables[1]),
    execLine("dimension", irisRecordDimensionSql(name), [String(spec.dimension)]),
    indexLine("source-index", name.schema, name.table, sourceIndex.name, sourceIndex.sql),
    indexLine("hnsw-index", name.schema, name.table, hnswIndex.name, hnswIndex.sql, "hnsw"),
  ];
  const expected = 5;
  return `${scriptPrelude(`create the vector table ${spec.table} (VECTOR(DOUBLE, ${spec.dimension})) in IRIS for ${spec.service}`, options)}name=${shQuote(spec.containerName)}
table=${shQuote(spec.table)}
${irisSessionStep(spec.namespace, lines.map(objectScriptLine))}
count="$(printf '%s\\n' "$results" | grep -c '^${RESULT_MARKER} ' || true)"
[ "$count" -eq ${expected} ] || fail "IRIS answered $count of ${expected} schema steps; is $name running? ($(printf '%s' "$results" | tr '\\n' ';'))"
failed="$(printf '%s\\n' "$results" | awk '$2 < 0')"
[ -z "$failed" ] || fail "IRIS rejected schema statements (SQLCODE < 0): $failed"
printf '%s\\n' "$results" | sed 's/^${RESULT_MARKER} /[gpu-fleet] SQLCODE /' >&2
log "schema of $table ready (dimension ${shInt(spec.dimension, "dimension")})"
`;
}
