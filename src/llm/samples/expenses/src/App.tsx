import { useEffect, useState, type FormEvent } from 'react';
import { PlusCircle, Trash2, Wallet } from 'lucide-react';
import { CATEGORIES, COLORS, SAMPLE_EXPENSES, money, type Category, type Expense } from './categories';
import { SpendingChart } from './SpendingChart';

const STORAGE_KEY = 'expenses';

function loadExpenses(): Expense[] {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    return saved ? (JSON.parse(saved) as Expense[]) : SAMPLE_EXPENSES;
  } catch {
    // Corrupt storage should not take the app down.
    return SAMPLE_EXPENSES;
  }
}

export default function App() {
  const [expenses, setExpenses] = useState<Expense[]>(loadExpenses);
  const [description, setDescription] = useState('');
  const [amount, setAmount] = useState('');
  const [category, setCategory] = useState<Category>('Food');

  useEffect(() => {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(expenses));
  }, [expenses]);

  const total = expenses.reduce((sum, e) => sum + e.amount, 0);

  const add = (e: FormEvent) => {
    e.preventDefault();
    const value = Number.parseFloat(amount);
    if (!description.trim() || !(value > 0)) return;
    const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const date = new Date().toISOString().slice(0, 10);
    setExpenses([{ id, description: description.trim(), amount: value, category, date }, ...expenses]);
    setDescription('');
    setAmount('');
  };

  return (
    <main className="min-h-screen bg-slate-50 px-4 py-10">
      <div className="mx-auto max-w-3xl space-y-6">
        <header className="flex items-center justify-between">
          <h1 className="flex items-center gap-2 text-3xl font-bold text-slate-800">
            <Wallet className="h-8 w-8 text-emerald-500" />
            Expense Tracker
          </h1>
          <div className="text-right">
            <div className="text-sm text-slate-500">Total spent</div>
            <div className="text-2xl font-semibold text-slate-800">{money(total)}</div>
          </div>
        </header>

        <form onSubmit={add} className="flex flex-wrap gap-2 rounded-2xl bg-white p-4 shadow-sm ring-1 ring-slate-200">
          <input
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            placeholder="Description"
            aria-label="Description"
            className="min-w-40 flex-1 rounded-lg border border-slate-200 px-3 py-2"
          />
          <input
            value={amount}
            onChange={(e) => setAmount(e.target.value)}
            placeholder="0.00"
            type="number"
            min="0"
            step="0.01"
            aria-label="Amount"
            className="w-28 rounded-lg border border-slate-200 px-3 py-2"
          />
          <select
            value={category}
            onChange={(e) => setCategory(e.target.value as Category)}
            aria-label="Category"
            className="rounded-lg border border-slate-200 px-3 py-2"
          >
            {CATEGORIES.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
          <button className="flex items-center gap-1 rounded-lg bg-emerald-500 px-4 py-2 font-medium text-white hover:bg-emerald-600">
            <PlusCircle className="h-4 w-4" /> Add
          </button>
        </form>

        <div className="grid gap-6 md:grid-cols-2">
          <section className="rounded-2xl bg-white p-4 shadow-sm ring-1 ring-slate-200">
            <h2 className="mb-2 font-semibold text-slate-700">By category</h2>
            <SpendingChart expenses={expenses} />
          </section>

          <section className="rounded-2xl bg-white p-4 shadow-sm ring-1 ring-slate-200">
            <h2 className="mb-2 font-semibold text-slate-700">Recent</h2>
            <ul className="max-h-56 divide-y divide-slate-100 overflow-y-auto">
              {expenses.map((e) => (
                <li key={e.id} className="group flex items-center gap-3 py-2">
                  <span className="h-3 w-3 shrink-0 rounded-full" style={{ background: COLORS[e.category] }} />
                  <span className="flex-1 text-slate-700">{e.description}</span>
                  <span className="font-medium text-slate-800">{money(e.amount)}</span>
                  <button
                    onClick={() => setExpenses(expenses.filter((x) => x.id !== e.id))}
                    aria-label={`Delete ${e.description}`}
                    className="text-slate-300 hover:text-rose-500"
                  >
                    <Trash2 className="h-4 w-4" />
                  </button>
                </li>
              ))}
              {expenses.length === 0 && <li className="py-6 text-center text-slate-400">No expenses yet.</li>}
            </ul>
          </section>
        </div>
      </div>
    </main>
  );
}
