export * from './catalog';
export * from './settings';
export * from './api';
