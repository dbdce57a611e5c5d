import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { makeProof } from '../helpers/dpop.js';
import { API_ORIGIN, type DpopHarness, PROTECTED, startDpopHarness } from '../helpers/dpop-harness.js';

/**
 * RFC 9112 section 3.2.2: a server must accept a request target in absolute-form
 * (`GET https://api.example.com/path HTTP/1.1`), and Fastify routes it by its path. A DPoP proof's
 * `htu` is compared with that path, the origin still coming from API_ORIGIN: the authority in the
 * target, like the Host header, is never trusted. Sent over a real socket, as a client or proxy sends it.
 */
describe('DPoP with a request target in absolute-form', () => {
  let h: DpopHarness;
  let port = 0;
  before(async () => {
    h = await startDpopHarness();
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const address = h.app.server.address();
    port = typeof address === 'object' && address !== null ? address.port : 0;
  });
  after(() => h.close());

  /** The status line and body of one raw GET, the connection then closed. */
  function get(target: string, proof: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let answer = '';
      socket.setTimeout(5_000, () => socket.destroy(new Error('no answer in 5 s')));
      socket.on('data', (chunk: Buffer) => { answer += chunk.toString('utf8'); });
      socket.on('error', reject);
      socket.on('close', () => {
        const [head = '', body = ''] = answer.split('\r\n\r\n');
        resolve({ status: Number(head.split(' ')[1]), body });
      });
      socket.write(
        `GET ${target} HTTP/1.1\r\nHost: api.example.com\r\nAuthorization: DPoP ${h.userToken}\r\nDPoP: ${proof}\r\nConnection: close\r\n\r\n`,
      );
    });
  }

  it('the target names the API origin, the proof its URL: 200', async () => {
    const response = await get(`${API_ORIGIN}${PROTECTED}`, await h.proof(h.userToken));
    assert.equal(response.status, 200, response.body);
  });

  it('with a query in the target: 200 (htu has none)', async () => {
    const response = await get(`${API_ORIGIN}${PROTECTED}?page=2`, await h.proof(h.userToken));
    assert.equal(response.status, 200, response.body);
  });

  it('the target and the proof name another origin: 401 (the authority in the target is not trusted)', async () => {
    const proof = await makeProof(h.key, { htu: `https://evil.example.com${PROTECTED}`, accessToken: h.userToken });
    const response = await get(`https://evil.example.com${PROTECTED}`, proof);
    assert.equal(response.status, 401, response.body);
  });

  it('a proof for another path than the target\'s: 401', async () => {
    const response = await get(`${API_ORIGIN}${PROTECTED}`, await h.proof(h.userToken, '/api/messages/admin'));
    assert.equal(response.status, 401, response.body);
  });
});
