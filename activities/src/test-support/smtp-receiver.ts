/** The tests' SMTP receiver is the one the `npm start` demo catches mail with. */
export * from '../mail/local-receiver';
