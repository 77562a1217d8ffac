/**
 * The current schema version of the lifecycle's events (schemas/events.ts).
 * Apart from the schemas, so what only needs the number (reading states,
 * checking a log's rows are not from a newer expctl) loads no zod.
 */
export const EVENT_SCHEMA_VERSION = 2;
