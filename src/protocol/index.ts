export * from './messages.js';
export * from './frame-header.js';
export * from './error-codes.js';
export * from './validate.js';
