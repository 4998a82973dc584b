/** The tests start slapd the way the demo does. */
export * from '../directory/local-slapd';
