import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { AMQP_URL_PATTERN, amqpNodeLabel, parseAmqpUrls, splitUrlList } from './amqp-urls.js';
import { commonEnv } from './common-env.js';
import { isConfigError, loadEnv } from './load-env.js';

const CLUSTER = 'amqp://guest:guest@127.0.0.1:5681,amqp://guest:guest@127.0.0.1:5682, amqp://guest:guest@127.0.0.1:5683';
const schema = Type.Object({ AMQP_URL: commonEnv.AMQP_URL });

describe('AMQP_URL lists', () => {
  it('when AMQP_URL lists three nodes, then each node is one URL, in order, trimmed', () => {
    expect(parseAmqpUrls(CLUSTER)).toEqual([
      'amqp://guest:guest@127.0.0.1:5681',
      'amqp://guest:guest@127.0.0.1:5682',
      'amqp://guest:guest@127.0.0.1:5683',
    ]);
  });

  it('when AMQP_URL is one URL, then it is a list of one', () => {
    expect(parseAmqpUrls('amqps://user:pw@broker.example:5671/vhost')).toEqual(['amqps://user:pw@broker.example:5671/vhost']);
  });

  it('when a comma sits inside one URL, then only commas that start another URL split the list', () => {
    expect(splitUrlList('postgres://h1:5432,h2:5432/db')).toEqual(['postgres://h1:5432,h2:5432/db']);
    expect(splitUrlList('amqp://a:1 ,  amqps://b:2,')).toEqual(['amqp://a:1', 'amqps://b:2,']);
  });

  it('when an entry is not an amqp URL, then a ConfigError names its position but not its text', () => {
    const attempt = () => parseAmqpUrls('amqp://guest:s3cret@a:5672,http://guest:s3cret@b:80');
    expect(attempt).toThrow(/entry 2 of 2/);
    try {
      attempt();
    } catch (error) {
      expect(isConfigError(error)).toBe(true);
      expect((error as Error).message).not.toContain('s3cret');
    }
    expect(() => parseAmqpUrls('')).toThrow(/no broker URL/);
  });

  it('when a node is named in a log, then it is host:port without credentials', () => {
    expect(amqpNodeLabel('amqp://guest:s3cret@127.0.0.1:5682/%2F')).toBe('127.0.0.1:5682');
    expect(amqpNodeLabel('amqps://user:pw@rabbit-2')).toBe('rabbit-2:5671');
    expect(amqpNodeLabel('amqp://rabbit-1')).toBe('rabbit-1:5672');
  });

  it('when the config schema reads AMQP_URL, then a list passes and a malformed list stops the start naming the variable', () => {
    expect(loadEnv(schema, { AMQP_URL: CLUSTER }).AMQP_URL).toBe(CLUSTER);
    expect(loadEnv(schema, {}).AMQP_URL).toBe('amqp://guest:guest@127.0.0.1:5672');
    for (const bad of ['amqp://a:5672,b:5672', 'amqp://a:5672,', 'redis://a:6379', 'amqp://a b']) {
      expect(() => loadEnv(schema, { AMQP_URL: bad }), bad).toThrow(/AMQP_URL/);
    }
    expect(new RegExp(AMQP_URL_PATTERN).test(CLUSTER)).toBe(true);
  });
});
