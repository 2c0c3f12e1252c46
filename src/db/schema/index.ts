export * from './bookings.js';
export * from './catalogue.js';
export * from './departures.js';
export * from './jobs.js';
export * from './oauth.js';
export * from './outbox.js';
export * from './users.js';
export * from './waitlists.js';
