// npm run kafka:start | kafka:stop | kafka:status — the development Kafka broker (see scripts/kafka/devBroker.ts).
import { devBrokerOptions, isListening, startDevBroker, stopDevBroker } from './kafka/devBroker.ts';

const options = devBrokerOptions();
const command = process.argv[2];
if (command === 'start') {
  const { pid, brokers, started } = await startDevBroker(options);
  console.log(`${started ? 'started' : 'already running:'} Kafka on ${brokers} (pid ${pid}, data in ${options.dataDir})`);
} else if (command === 'stop') {
  console.log((await stopDevBroker(options.dataDir)) ? 'stopped' : `no broker running from ${options.dataDir}`);
} else if (command === 'status') {
  const up = await isListening(options.host, options.port);
  console.log(`${options.host}:${options.port} ${up ? 'answers' : 'does not answer'}`);
  process.exitCode = up ? 0 : 1;
} else {
  console.error('usage: node scripts/kafka.ts start|stop|status');
  process.exitCode = 2;
}
