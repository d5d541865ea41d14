import { useState, type FormEvent } from 'react';
import { Check, ListTodo, Plus, Trash2 } from 'lucide-react';
import { useStoredState } from './useStoredState';

interface Todo {
  id: string;
  text: string;
  done: boolean;
}

type Filter = 'all' | 'active' | 'done';

const FILTERS: { id: Filter; label: string }[] = [
  { id: 'all', label: 'All' },
  { id: 'active', label: 'Active' },
  { id: 'done', label: 'Done' },
];

// crypto.randomUUID needs a secure context, and the app may be served over plain http.
const newId = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

export default function App() {
  const [todos, setTodos] = useStoredState<Todo[]>('todos', [
    { id: 'welcome', text: 'Try adding your first task', done: false },
  ]);
  const [draft, setDraft] = useState('');
  const [filter, setFilter] = useState<Filter>('all');

  const add = (e: FormEvent) => {
    e.preventDefault();
    const text = draft.trim();
    if (!text) return;
    setTodos([{ id: newId(), text, done: false }, ...todos]);
    setDraft('');
  };
  const toggle = (id: string) => setTodos(todos.map((t) => (t.id === id ? { ...t, done: !t.done } : t)));
  const remove = (id: string) => setTodos(todos.filter((t) => t.id !== id));
  const clearDone = () => setTodos(todos.filter((t) => !t.done));

  const visible = todos.filter((t) => (filter === 'all' ? true : filter === 'done' ? t.done : !t.done));
  const left = todos.filter((t) => !t.done).length;

  return (
    <main className="min-h-screen bg-gradient-to-br from-indigo-50 to-sky-100 px-4 py-12">
      <div className="mx-auto max-w-md rounded-2xl bg-white p-6 shadow-xl shadow-indigo-200/50">
        <h1 className="mb-6 flex items-center gap-2 text-2xl font-bold text-slate-800">
          <ListTodo className="h-7 w-7 text-indigo-500" />
          Todo List
        </h1>

        <form onSubmit={add} className="mb-4 flex gap-2">
          <input
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            placeholder="What needs doing?"
            aria-label="New task"
            className="flex-1 rounded-lg border border-slate-200 px-3 py-2 outline-none focus:border-indigo-400 focus:ring-2 focus:ring-indigo-100"
          />
          <button
            type="submit"
            className="flex items-center gap-1 rounded-lg bg-indigo-500 px-4 py-2 font-medium text-white hover:bg-indigo-600"
          >
            <Plus className="h-4 w-4" /> Add
          </button>
        </form>

        <div className="mb-3 flex gap-1 text-sm">
          {FILTERS.map((f) => (
            <button
              key={f.id}
              onClick={() => setFilter(f.id)}
              className={`rounded-md px-3 py-1 ${filter === f.id ? 'bg-indigo-100 text-indigo-700' : 'text-slate-500 hover:bg-slate-100'}`}
            >
              {f.label}
            </button>
          ))}
        </div>

        <ul className="divide-y divide-slate-100">
          {visible.map((t) => (
            <li key={t.id} className="group flex items-center gap-3 py-2">
              <button
                onClick={() => toggle(t.id)}
                aria-label={t.done ? 'Mark as not done' : 'Mark as done'}
                className={`flex h-6 w-6 shrink-0 items-center justify-center rounded-full border-2 ${
                  t.done ? 'border-emerald-500 bg-emerald-500 text-white' : 'border-slate-300 hover:border-indigo-400'
                }`}
              >
                {t.done && <Check className="h-4 w-4" />}
              </button>
              <span className={`flex-1 ${t.done ? 'text-slate-400 line-through' : 'text-slate-700'}`}>{t.text}</span>
              <button
                onClick={() => remove(t.id)}
                aria-label="Delete task"
                className="text-slate-300 opacity-0 hover:text-rose-500 group-hover:opacity-100"
              >
                <Trash2 className="h-4 w-4" />
              </button>
            </li>
          ))}
          {visible.length === 0 && <li className="py-6 text-center text-slate-400">Nothing here.</li>}
        </ul>

        <div className="mt-4 flex items-center justify-between text-sm text-slate-500">
          <span>
            {left} {left === 1 ? 'task' : 'tasks'} left
          </span>
          <button onClick={clearDone} className="hover:text-rose-500">
            Clear completed
          </button>
        </div>
      </div>
    </main>
  );
}
