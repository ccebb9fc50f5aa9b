// An app whose memory grows: sessions pile up in a Map that nothing prunes. Try heapprofile on it.
// Run it from a clone, after npm install: node -r aiomonitor/register examples/leak.js
const sessions = new Map();
let next = 0;

function makeSession(id) {
  return { id, user: `user-${id}`, started: new Date(), visits: [] };
}

function recordVisit(session) {
  session.visits.push({ path: `/page/${session.visits.length}`, at: Date.now() });
}

setInterval(function handleLogins() {
  for (let i = 0; i < 50; i++) {
    const session = makeSession(next++);
    sessions.set(session.id, session);
    for (let j = 0; j < 5; j++) recordVisit(session);
  }
}, 20);

console.log(`pid ${process.pid}: ${sessions.size} sessions, and counting`);
