export * from './errors.js';
export * from './echo.js';
