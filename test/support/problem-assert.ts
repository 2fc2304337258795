import { expect } from 'vitest';

/** The stable `type` URI of a problem (RFC 9457), as the API answers it. */
export const problemType = (name: string): string => `urn:order-platform:problem:${name}`;

/**
 * Asserts that `response` is the problem `name` with `status`: application/problem+json, the
 * RFC 9457 members, and no stack trace or source path anywhere in it. Returns the body.
 */
export async function expectProblem(response: Response, status: number, name: string): Promise<Record<string, unknown>> {
  const text = await response.text();
  expect({ status: response.status, text }).toMatchObject({ status });
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(body).toMatchObject({ type: problemType(name), title: expect.any(String), status, detail: expect.any(String), instance: expect.any(String) });
  expect(text).not.toMatch(/\bat .+:\d+:\d+|node_modules|\.ts\b|"stack"/);
  return body;
}
