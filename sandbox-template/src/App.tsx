// Shown while the model is still writing the app's files.
export default function App() {
  return (
    <main className="flex min-h-screen items-center justify-center bg-slate-950 text-slate-100">
      <div className="flex flex-col items-center gap-4">
        <div className="h-10 w-10 animate-spin rounded-full border-4 border-slate-700 border-t-sky-400" />
        <p className="text-lg font-medium">Starting your app…</p>
      </div>
    </main>
  );
}
