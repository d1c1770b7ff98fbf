namespace Trove.Application.Inference;

/// <summary>
/// One loaded model (an ONNX session and what goes with it) kept while its key — id, version, files, parameters — stays
/// the same. A replaced one is not disposed at once, since a run may still be using it; everything goes when the cache
/// is disposed (the library closes). Thread-safe.
/// </summary>
public sealed class LoadedModelCache<T> : IDisposable
    where T : class, IDisposable
{
    private readonly Lock _sync = new();
    private readonly List<T> _retired = [];
    private (string Key, T Value)? _loaded;

    /// <summary>The loaded model for <paramref name="key"/>, loading it with <paramref name="load"/> when the key changed.</summary>
    public T Get(string key, Func<T> load)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(load);
        lock (_sync)
        {
            if (_loaded is { } loaded && loaded.Key == key)
            {
                return loaded.Value;
            }

            var value = load();
            if (_loaded is { } old)
            {
                _retired.Add(old.Value);
            }

            _loaded = (key, value);
            return value;
        }
    }

    public void Dispose()
    {
        lock (_sync)
        {
            _loaded?.Value.Dispose();
            _loaded = null;
            foreach (var r in _retired)
            {
                r.Dispose();
            }

            _retired.Clear();
        }
    }
}
