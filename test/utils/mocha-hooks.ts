/**
 * Root hooks for every mocha run: quiet logs unless QUOTIENT_TEST_LOG is set.
 */
process.env.QUOTIENT_LOG_LEVEL ??= process.env.QUOTIENT_TEST_LOG ?? 'silent';
