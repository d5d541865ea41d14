import { useState, type FormEvent } from 'react';
import { Check, Plus, Utensils, WifiOff } from 'lucide-react';
import { useSharedList, useViewer } from '@vibe/shared';
import { DEFAULT_PLACES, readPlace, readVote } from './places';

export default function App() {
  const me = useViewer();
  // One item per viewer (keyed by their id): voting again replaces their vote, never someone else's.
  const votes = useSharedList<unknown>('votes');
  const added = useSharedList<unknown>('places');
  const [nameDraft, setNameDraft] = useState('');
  const [placeDraft, setPlaceDraft] = useState('');

  const places = [...DEFAULT_PLACES];
  for (const item of added.items) {
    const place = readPlace(item.value);
    if (place && !places.some((p) => p.toLowerCase() === place.toLowerCase())) places.push(place);
  }
  const ballots = votes.items.flatMap((item) => {
    const vote = readVote(item.value);
    return vote ? [{ ...vote, by: item.by }] : [];
  });
  const mine = ballots.find((b) => b.by === me.id)?.place;
  const total = ballots.length;

  const vote = (place: string) => votes.put(me.id, { place, name: me.name });
  const saveName = (e: FormEvent) => {
    e.preventDefault();
    if (!nameDraft.trim()) return;
    me.setName(nameDraft);
    // The name shows beside the vote, so a vote already cast gets it too.
    if (mine) votes.put(me.id, { place: mine, name: nameDraft.trim() });
  };
  const addPlace = (e: FormEvent) => {
    e.preventDefault();
    const place = readPlace(placeDraft);
    if (place && !places.some((p) => p.toLowerCase() === place.toLowerCase())) added.add(place);
    setPlaceDraft('');
  };

  return (
    <main className="min-h-screen bg-gradient-to-br from-amber-50 to-orange-100 px-4 py-12">
      <div className="mx-auto max-w-md rounded-2xl bg-white p-6 shadow-xl shadow-orange-200/50">
        <h1 className="mb-1 flex items-center gap-2 text-2xl font-bold text-slate-800">
          <Utensils className="size-7 text-orange-500" aria-hidden />
          Team Lunch Poll
        </h1>
        <p className="mb-5 text-sm text-slate-500">
          Where should we eat? One vote each; everyone sees the results live.
        </p>

        {votes.status !== 'live' && (
          <p
            className="mb-4 flex items-center gap-2 rounded-lg bg-slate-100 px-3 py-2 text-sm text-slate-600"
            role="status"
          >
            <WifiOff className="size-4" aria-hidden />
            {votes.status === 'connecting'
              ? 'Connecting…'
              : 'Offline: your vote will be sent when the connection is back.'}
          </p>
        )}

        {me.name === null && (
          <form onSubmit={saveName} className="mb-5 flex gap-2">
            <input
              value={nameDraft}
              onChange={(e) => setNameDraft(e.target.value)}
              placeholder="Your name, so the team knows who voted"
              aria-label="Your name"
              maxLength={40}
              className="flex-1 rounded-lg border border-slate-200 px-3 py-2 text-sm outline-none focus:border-orange-400 focus:ring-2 focus:ring-orange-100"
            />
            <button
              type="submit"
              className="rounded-lg bg-slate-800 px-3 py-2 text-sm font-medium text-white hover:bg-slate-700"
            >
              Save
            </button>
          </form>
        )}

        <ul className="space-y-2">
          {places.map((place) => {
            const voters = ballots.filter((b) => b.place === place);
            const share = total === 0 ? 0 : Math.round((voters.length / total) * 100);
            const chosen = mine === place;
            return (
              <li key={place}>
                <button
                  onClick={() => vote(place)}
                  aria-pressed={chosen}
                  className={`relative w-full overflow-hidden rounded-xl border px-4 py-3 text-left transition ${
                    chosen ? 'border-orange-400 ring-2 ring-orange-200' : 'border-slate-200 hover:border-orange-300'
                  }`}
                >
                  <span
                    className="absolute inset-y-0 left-0 bg-orange-100"
                    style={{ width: `${share}%` }}
                    aria-hidden
                  />
                  <span className="relative flex items-center justify-between gap-2">
                    <span className="flex items-center gap-2 font-medium text-slate-800">
                      {chosen && <Check className="size-4 text-orange-600" aria-hidden />}
                      {place}
                    </span>
                    <span className="text-sm text-slate-600" data-testid={`count-${place}`}>
                      {voters.length} {voters.length === 1 ? 'vote' : 'votes'}
                    </span>
                  </span>
                  {voters.length > 0 && (
                    <span className="relative mt-1 block truncate text-xs text-slate-500">
                      {voters.map((v) => (v.by === me.id ? 'you' : (v.name ?? 'someone'))).join(', ')}
                    </span>
                  )}
                </button>
              </li>
            );
          })}
        </ul>

        <form onSubmit={addPlace} className="mt-4 flex gap-2">
          <input
            value={placeDraft}
            onChange={(e) => setPlaceDraft(e.target.value)}
            placeholder="Another place?"
            aria-label="Add a place"
            maxLength={40}
            className="flex-1 rounded-lg border border-slate-200 px-3 py-2 text-sm outline-none focus:border-orange-400 focus:ring-2 focus:ring-orange-100"
          />
          <button
            type="submit"
            className="flex items-center gap-1 rounded-lg bg-orange-500 px-3 py-2 text-sm font-medium text-white hover:bg-orange-600"
          >
            <Plus className="size-4" aria-hidden /> Add
          </button>
        </form>

        <div className="mt-4 flex items-center justify-between text-sm text-slate-500">
          <span>
            {total} {total === 1 ? 'vote' : 'votes'} so far
          </span>
          {mine && (
            <button onClick={() => votes.remove(me.id)} className="hover:text-rose-500">
              Take back my vote
            </button>
          )}
        </div>
      </div>
    </main>
  );
}
