// The peer of bench/websocket.sh on Node.js with `ws`: mysite's /ws/echo/
// (each message back as it came) and /ws/chat/ (each text message, and each
// join, to every member).
//   node node_ws.js PORT
const http = require("http");
const { WebSocketServer } = require("ws");

const port = Number(process.argv[2]);
const server = http.createServer((request, response) => response.writeHead(404).end());
const echo = new WebSocketServer({ noServer: true });
const chat = new WebSocketServer({ noServer: true });

server.on("upgrade", (request, socket, head) => {
  const target = request.url === "/ws/chat/" ? chat : request.url === "/ws/echo/" ? echo : null;
  if (!target) return socket.destroy();
  target.handleUpgrade(request, socket, head, (ws) => target.emit("connection", ws));
});

echo.on("connection", (ws) => {
  ws.on("message", (data, binary) => ws.send(data, { binary }));
});

function broadcast(text) {
  for (const member of chat.clients) member.send(text);
}

chat.on("connection", (ws) => {
  broadcast(`* someone joined (${chat.clients.size} here)`);
  ws.on("message", (data, binary) => { if (!binary) broadcast(data.toString()); });
});

server.listen(port, "127.0.0.1");
