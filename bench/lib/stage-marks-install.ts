/**
 * Preloaded (`--import`) into the qless-ts worker's children when the
 * benchmark runs with QLESS_TS_STAGE_MARKS=1: marks their Redis and IPC
 * traffic from the start (see stage-marks.ts).
 */
import { installStageMarks } from './stage-marks.js';

installStageMarks();
