/** The broker the integration tests use; `npm test` starts the development broker when none answers. */
export const testKafkaBrokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
