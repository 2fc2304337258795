import express from 'express';
import type { Logger } from '../../../../shared/logging/logger.js';
import { FaultSettings, type CallGauge, type Faults } from '../../domain/faults.js';
import { bodyChecker } from './body-validation.js';
import { send } from './error-handler.js';

const checkFaults = bodyChecker(FaultSettings);

/**
 * GET /_faults and PUT /_faults (the settings replace the previous ones; `{}` clears them);
 * GET /_faults/calls (the call gauge) and DELETE /_faults/calls (starts a new measurement).
 * Mounted only when FAULT_INJECTION_ENABLED; otherwise the paths are unknown (404).
 */
export function faultsRouter(faults: Faults, gauge: CallGauge, logger: Logger): express.Router {
  const router = express.Router();
  router.get('/_faults/calls', (_req, res) => {
    res.json(gauge.stats);
  });
  router.delete('/_faults/calls', (_req, res) => {
    gauge.reset();
    res.json(gauge.stats);
  });
  router.get('/_faults', (_req, res) => {
    res.json(faults.current);
  });
  router.put('/_faults', (req, res) => {
    const checked = checkFaults(req.body);
    if (!checked.ok) return send(res, checked.response);
    faults.set(checked.value);
    // Setting faults is worth a warning in any log; clearing them is routine.
    if (Object.keys(checked.value).length > 0) logger.warn('fault injection set', { faults: checked.value });
    else logger.info('fault injection cleared');
    res.json(faults.current);
  });
  return router;
}
