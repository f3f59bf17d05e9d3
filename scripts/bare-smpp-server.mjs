// A bare SMPP server on the node-smpp package that stores nothing: it answers every bind and
// submit_sm at once. bench:submit --bare measures clients against it, beside the inserter, to show
// what SMPP alone costs on this machine. Plain JavaScript, started as its own process.
//   node scripts/bare-smpp-server.mjs [--port 0]
import smpp from 'smpp';

const portFlag = process.argv.indexOf('--port');
const port = portFlag >= 0 ? Number(process.argv[portFlag + 1]) : 0;
let nextId = 0;

const server = smpp.createServer((session) => {
  session.on('error', () => {});
  for (const bind of ['bind_transmitter', 'bind_receiver', 'bind_transceiver']) {
    session.on(bind, (pdu) => session.send(pdu.response({ system_id: 'BARE' })));
  }
  session.on('submit_sm', (pdu) => session.send(pdu.response({ message_id: (++nextId).toString(16) })));
  session.on('enquire_link', (pdu) => session.send(pdu.response()));
  session.on('unbind', (pdu) => {
    session.send(pdu.response());
    session.close();
  });
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`bare SMPP server listening on 127.0.0.1:${server.address().port}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
