import type { StoreLocation } from '@runbooks/store';
import { STORE_BACKENDS, closeStores, openStore } from '../harness/stores';

/** Knowledge-base articles on SQLite and PostgreSQL: written by one instance, found by another. */
describe.each(STORE_BACKENDS)('knowledge base on $name', ({ freshLocation }) => {
  let location: StoreLocation;
  beforeEach(async () => {
    location = await freshLocation();
  });
  afterEach(closeStores);

  const article = (id: string, text: string) => ({
    id,
    runId: `run-${id}`,
    title: `title ${id}`,
    searchText: text,
    body: `{"id":"${id}"}`,
  });

  it('finds articles holding every word, case-insensitive, newest first; a rewrite of the same id replaces it', async () => {
    const [a, b] = [openStore(location), openStore(location)];
    await a.knowledgeBase.put(article('kb-1', 'rb-greeter fails after rb-libgreet 2.0-1'));
    await a.knowledgeBase.put(article('kb-2', 'VPN client drops: openssl 3.0.11'));
    await a.knowledgeBase.put(article('kb-3', 'RB-GREETER prints nothing'));

    expect((await b.knowledgeBase.search('rb-greeter', 10)).map((r) => r.id)).toEqual(['kb-3', 'kb-1']);
    expect((await b.knowledgeBase.search('Greeter  LIBGREET', 10)).map((r) => r.id)).toEqual(['kb-1']);
    expect((await b.knowledgeBase.search('rb-greeter', 1)).map((r) => r.id)).toEqual(['kb-3']);
    expect(await b.knowledgeBase.search('greeter openssl', 10)).toEqual([]);

    await a.knowledgeBase.put(article('kb-2', 'VPN client drops: openssl 3.0.16 fixes it'));
    expect((await b.knowledgeBase.search('3.0.16', 10)).map((r) => r.id)).toEqual(['kb-2']);
    expect(await b.knowledgeBase.get('kb-2')).toMatchObject({ id: 'kb-2', runId: 'run-kb-2', body: '{"id":"kb-2"}' });
    expect(await b.knowledgeBase.get('kb-9')).toBeUndefined();
  });

  it("matches LIKE's wildcards literally", async () => {
    const store = openStore(location);
    await store.knowledgeBase.put(article('kb-1', 'disk 100% full'));
    await store.knowledgeBase.put(article('kb-2', 'disk 1000 files'));
    await store.knowledgeBase.put(article('kb-3', 'a_b and a\\b'));
    expect((await store.knowledgeBase.search('100%', 10)).map((r) => r.id)).toEqual(['kb-1']);
    expect((await store.knowledgeBase.search('a_b', 10)).map((r) => r.id)).toEqual(['kb-3']);
    expect((await store.knowledgeBase.search('%', 10)).map((r) => r.id)).toEqual(['kb-1']);
    expect((await store.knowledgeBase.search('a\\b', 10)).map((r) => r.id)).toEqual(['kb-3']);
  });
});
