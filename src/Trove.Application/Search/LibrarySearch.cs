using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Trove.Application.Ports;
using Trove.Search.Engine;

namespace Trove.Application.Search;

/// <summary>
/// The library's in-memory search engine, kept in step with the index: loaded on first use, then before each search
/// brought up to date with whatever was written since — by this process or any other — using the index's change
/// numbers (<see cref="IndexChangeState"/>). A rebuilt index (new epoch) is reloaded from scratch.
/// </summary>
public sealed class LibrarySearch : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ILogger _logger;
    private string? _epoch;
    private long _seq;
    private long _catalogSeq = -1;
    private (long, long)? _peopleVersion;

    public LibrarySearch(ILogger logger)
    {
        _logger = logger;
    }

    public SearchIndex Engine { get; } = new();

    /// <summary>The embeddings beside the engine, for <c>semantic:</c> and <c>like:</c> (keyed like the engine's documents).</summary>
    public SemanticVectors Vectors { get; } = new();

    /// <summary>The people's version and names, for <c>person:NAME</c> (set by the library).</summary>
    public Faces.PeopleDirectory? People { get; set; }

    /// <summary>Brings the engine up to date with the index and returns it.</summary>
    public async Task<SearchIndex> ReadyAsync(ILibraryIndex index, CancellationToken ct)
    {
        var state = await index.GetChangeStateAsync(ct).ConfigureAwait(false);
        var people = People?.Version;
        if (IsCurrent(state) && Equals(people, _peopleVersion))
        {
            return Engine;
        }

        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            state = await index.GetChangeStateAsync(ct).ConfigureAwait(false);
            if (state.Epoch != _epoch)
            {
                await LoadAsync(index, state, ct).ConfigureAwait(false);
            }
            else if (state.ChangeSeq != _seq)
            {
                await CatchUpAsync(index, state, ct).ConfigureAwait(false);
            }

            if (state.CatalogSeq != _catalogSeq)
            {
                Engine.SetAliases(await index.ListAliasesAsync(ct).ConfigureAwait(false));
                Engine.SetCollections((await index.ListCollectionsAsync(ct).ConfigureAwait(false)).Select(c => (c.Id, c.Name)));
                _catalogSeq = state.CatalogSeq;
            }

            if (People is not null && !Equals(people, _peopleVersion))
            {
                Engine.SetPeople(People.All().Select(p => (p.Id, (IReadOnlyList<string>)[.. (p.Name is null ? Array.Empty<string>() : [p.Name]), .. p.Aliases])));
                _peopleVersion = people;
            }

            return Engine;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        Engine.Dispose();
        Vectors.Dispose();
        _gate.Dispose();
    }

    private bool IsCurrent(IndexChangeState state) =>
        state.Epoch == _epoch && state.ChangeSeq == _seq && state.CatalogSeq == _catalogSeq;

    private async Task LoadAsync(ILibraryIndex index, IndexChangeState state, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        _epoch = null;
        Vectors.Reset();
        Engine.Clear();
        Engine.Reserve((int)Math.Min(int.MaxValue, state.MaxKey + 1));
        // Reading rows and indexing them take about as long each: one thread reads while this one indexes.
        // Documents travel in batches so the two threads rarely wait on each other.
        const int batch = 1024;
        var channel = Channel.CreateBounded<List<SearchDocument>>(new BoundedChannelOptions(8) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var token = stop.Token;
        var reader = Task.Run(
            async () =>
            {
                try
                {
                    var chunk = new List<SearchDocument>(batch);
                    await foreach (var doc in index.ReadSearchDocumentsAsync(0, token).ConfigureAwait(false))
                    {
                        chunk.Add(doc);
                        if (chunk.Count == batch)
                        {
                            await channel.Writer.WriteAsync(chunk, token).ConfigureAwait(false);
                            chunk = new List<SearchDocument>(batch);
                        }
                    }

                    await channel.Writer.WriteAsync(chunk, token).ConfigureAwait(false);

                    channel.Writer.Complete();
                }
                catch (Exception ex)
                {
                    channel.Writer.Complete(ex);
                }
            },
            token);
        var n = 0;
        try
        {
            await foreach (var chunk in channel.Reader.ReadAllAsync(token).ConfigureAwait(false))
            {
                foreach (var doc in chunk)
                {
                    Engine.Upsert(doc);
                }

                n += chunk.Count;
            }
        }
        finally
        {
            // On failure, stop the reader before leaving (it holds the index's connection).
            await stop.CancelAsync().ConfigureAwait(false);
            await reader.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        // Writes that landed while loading are picked up by the next catch-up (the load may have seen some of them too).
        _seq = state.ChangeSeq;
        _epoch = state.Epoch;
        Log.SearchLoaded(_logger, n, clock.Elapsed.TotalSeconds);
    }

    private async Task CatchUpAsync(ILibraryIndex index, IndexChangeState state, CancellationToken ct)
    {
        var removed = await index.RemovedSinceAsync(_seq, ct).ConfigureAwait(false);
        Vectors.Remove(Engine, removed);
        foreach (var key in removed)
        {
            Engine.Remove(key);
        }

        var changed = 0;
        var returning = Vectors.HasParked ? new List<string>() : null;
        await foreach (var doc in index.ReadSearchDocumentsAsync(_seq, ct).ConfigureAwait(false))
        {
            Engine.Upsert(doc);
            returning?.Add(doc.Id);
            changed++;
        }

        if (returning is { Count: > 0 })
        {
            Vectors.Returned(Engine, returning);
        }

        _seq = state.ChangeSeq;
        Log.SearchCaughtUp(_logger, changed, removed.Count);
    }
}
