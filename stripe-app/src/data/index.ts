export * from './client';
export * from './errors';
export * from './useBackend';
export * from './useRemote';
