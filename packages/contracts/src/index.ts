export * from './catalog';
export * from './settings';
export * from './api';
export * from './money';
export * from './destinations';
