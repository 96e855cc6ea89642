/**
 * A minimal JSON Schema builder that carries the TypeScript type of what it validates, so each
 * route's request and response types are derived from the very schema the server validates with
 * (no second, hand-written copy to drift). Only the keywords this contract needs are offered.
 * Objects are always strict (`additionalProperties: false`): unknown fields are rejected.
 */
import { base64Length, base64UrlLength, UUID_PATTERN } from './encoding.js';

declare const STATIC: unique symbol;
declare const OPTIONAL: unique symbol;

/** A JSON Schema object whose validated value has type `T`. */
export type Schema<T> = { readonly [STATIC]?: T } & { readonly [key: string]: unknown };
/** A schema marked optional inside an object. */
export type OptionalSchema<T> = Schema<T> & { readonly [OPTIONAL]: true };

/** The TypeScript type a schema validates. */
export type Static<S> = S extends Schema<infer T> ? T : never;

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type RequiredKeys<P> = {
  [K in keyof P]: P[K] extends OptionalSchema<unknown> ? never : K;
}[keyof P];
type OptionalKeys<P> = {
  [K in keyof P]: P[K] extends OptionalSchema<unknown> ? K : never;
}[keyof P];
type ObjectStatic<P extends Record<string, Schema<unknown>>> = Simplify<
  { readonly [K in RequiredKeys<P>]: Static<P[K]> } & {
    readonly [K in OptionalKeys<P>]?: Static<P[K]>;
  }
>;

const optionalMark = new WeakSet<object>();

export const t = {
  string(opts: { minLength?: number; maxLength: number; pattern?: string }): Schema<string> {
    return { type: 'string', ...opts };
  },
  integer(opts: { minimum: number; maximum: number }): Schema<number> {
    return { type: 'integer', ...opts };
  },
  boolean(): Schema<boolean> {
    return { type: 'boolean' };
  },
  literal<const V extends string>(value: V): Schema<V> {
    return { type: 'string', const: value };
  },
  enum<const V extends string>(values: readonly V[]): Schema<V> {
    return { type: 'string', enum: values };
  },
  /** Bytes as standard padded base64 of between `min` and `max` bytes. */
  bytes(min: number, max: number): Schema<string> {
    return {
      type: 'string',
      minLength: base64Length(min),
      maxLength: base64Length(max),
      pattern: '^[A-Za-z0-9+/]*={0,2}$',
      contentEncoding: 'base64',
    };
  },
  /** Bytes as unpadded base64url of exactly `n` bytes (ids and codes in paths and headers). */
  base64Url(n: number): Schema<string> {
    const len = base64UrlLength(n);
    return { type: 'string', minLength: len, maxLength: len, pattern: '^[A-Za-z0-9_-]+$' };
  },
  uuid(): Schema<string> {
    return { type: 'string', minLength: 36, maxLength: 36, pattern: UUID_PATTERN };
  },
  array<S extends Schema<unknown>>(
    items: S,
    opts: { minItems?: number; maxItems: number; uniqueItems?: boolean },
  ): Schema<readonly Static<S>[]> {
    return { type: 'array', items, ...opts };
  },
  object<P extends Record<string, Schema<unknown>>>(properties: P): Schema<ObjectStatic<P>> {
    const required = Object.keys(properties).filter((k) => !optionalMark.has(properties[k]!));
    return {
      type: 'object',
      properties,
      ...(required.length > 0 ? { required } : {}),
      additionalProperties: false,
    };
  },
  /** Marks a property optional. Returns a distinct object so the inner schema can be shared. */
  optional<T>(schema: Schema<T>): OptionalSchema<T> {
    const copy = { ...schema };
    optionalMark.add(copy);
    return copy as OptionalSchema<T>;
  },
  /** An empty, strict object (for routes without a body or response fields). */
  empty(): Schema<Record<string, never>> {
    return { type: 'object', properties: {}, additionalProperties: false };
  },
};

/** What every route validates: its body, its path parameters and its JSON responses by status. */
export interface ValidatedRoute {
  readonly params?: Schema<unknown>;
  readonly body?: Schema<unknown>;
  /** status → schema of the JSON body; `null` for an empty body (204) or raw bytes. */
  readonly response: Readonly<Record<number, Schema<unknown> | null>>;
}

/**
 * A route's JSON Schemas as HTTP frameworks take them (Fastify's `schema` option): body and params
 * when the route has them, and a response schema for every status with a JSON body.
 */
export function validationSchema(spec: ValidatedRoute): {
  body?: Schema<unknown>;
  params?: Schema<unknown>;
  response: Record<number, Schema<unknown>>;
} {
  const response: Record<number, Schema<unknown>> = {};
  for (const [status, schema] of Object.entries(spec.response)) {
    if (schema !== null) response[Number(status)] = schema;
  }
  return {
    ...(spec.body === undefined ? {} : { body: spec.body }),
    ...(spec.params === undefined ? {} : { params: spec.params }),
    response,
  };
}

/**
 * The validator settings every Sotto service uses (Ajv, as Fastify embeds it): unknown fields
 * are rejected by the schemas themselves (`additionalProperties: false`), never silently removed;
 * no type coercion; no defaults filled in; stop at the first error.
 */
export const STRICT_VALIDATOR_OPTIONS = {
  removeAdditional: false,
  coerceTypes: false,
  useDefaults: false,
  allErrors: false,
} as const;
