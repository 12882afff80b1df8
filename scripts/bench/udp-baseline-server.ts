/**
 * The least a Node process can do for a DNS query over UDP: node:dgram, and every message sent back with
 * its QR bit set (the query's own header and question, no records). Run in a process of its own as a
 * reference for what Node's UDP sockets allow on this machine; tells its port over the fork IPC channel
 * (`{ type: 'ready', port }`).
 */
import { createSocket } from 'node:dgram';

const socket = createSocket('udp4');
socket.on('message', (msg, rinfo) => {
  if (msg.length < 12) return;
  msg[2] |= 0x80;
  socket.send(msg, rinfo.port, rinfo.address);
});
socket.bind(0, '127.0.0.1', () => {
  socket.setRecvBufferSize(4 * 1024 * 1024);
  socket.setSendBufferSize(4 * 1024 * 1024);
  process.send!({ type: 'ready', port: socket.address().port });
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
