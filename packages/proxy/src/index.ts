export * from './api.js';
export * from './logger.js';
export * from './access-log.js';
export * from './metrics.js';
export * from './admin.js';
