import { describe, expect, it } from 'vitest';
import { backlogLimit, loadOrderConfig } from './config.js';

const limitFor = (env: Record<string, string>) => backlogLimit(loadOrderConfig(env));

describe('admission control settings', () => {
  it('when nothing is set, then the bound is adaptive: at least 50 orders, aiming at 0.5 s each', () => {
    expect(limitFor({})).toEqual({ kind: 'adaptive', min: 50, targetSeconds: 0.5 });
    expect(limitFor({ ADMISSION_MAX_BACKLOG: '' })).toEqual({ kind: 'adaptive', min: 50, targetSeconds: 0.5 });
    expect(limitFor({ ADMISSION_MIN_BACKLOG: '20', ADMISSION_TARGET_SECONDS: '0.25' })).toEqual({ kind: 'adaptive', min: 20, targetSeconds: 0.25 });
  });

  it('when ADMISSION_MAX_BACKLOG is a number, then that is the bound; 0 or off turns admission control off', () => {
    expect(limitFor({ ADMISSION_MAX_BACKLOG: '200' })).toEqual({ kind: 'fixed', max: 200 });
    expect(limitFor({ ADMISSION_MAX_BACKLOG: '0' })).toEqual({ kind: 'off' });
    expect(limitFor({ ADMISSION_MAX_BACKLOG: 'off' })).toEqual({ kind: 'off' });
  });

  it('when a setting is not valid, then the service refuses to start, naming it', () => {
    expect(() => limitFor({ ADMISSION_MAX_BACKLOG: 'lots' })).toThrow(/ADMISSION_MAX_BACKLOG/);
    expect(() => limitFor({ ADMISSION_MAX_BACKLOG: '-1' })).toThrow(/ADMISSION_MAX_BACKLOG/);
    expect(() => limitFor({ ADMISSION_TARGET_SECONDS: '0' })).toThrow(/ADMISSION_TARGET_SECONDS/);
    expect(() => limitFor({ ADMISSION_REFRESH_MS: '1' })).toThrow(/ADMISSION_REFRESH_MS/);
  });
});
