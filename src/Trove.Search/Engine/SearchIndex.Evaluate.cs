using System.Buffers;
using System.Numerics;
using Trove.Domain;
using Trove.Search.Query;

namespace Trove.Search.Engine;

public sealed partial class SearchIndex
{
    /// <summary>Sets <paramref name="dst"/> (length <see cref="Words"/>) to the documents matching the plan.</summary>
    private void Eval(Plan plan, Span<ulong> dst, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        switch (plan)
        {
            case EmptyPlan:
                dst.Clear();
                break;
            case AllPlan:
                Copy(_live, dst);
                break;
            case PostingsPlan p:
                dst.Clear();
                foreach (var l in p.Lists)
                {
                    l.OrInto(dst);
                }

                break;
            case RangePlan r:
                EvalRange(r, dst);
                break;
            case IdPrefixPlan i:
                dst.Clear();
                for (var d = 0; d < _capacity; d++)
                {
                    if (MatchesId(i, d))
                    {
                        Bits.Set(dst, d);
                    }
                }

                break;
            case PhrasePlan ph:
                EvalPhrase(ph, dst, ct);
                break;
            case SimilarPlan s:
                dst.Clear();
                for (var d = 0; d < _capacity; d++)
                {
                    if (TestSimilar(s, d))
                    {
                        Bits.Set(dst, d);
                    }
                }

                break;
            case MaskHolderPlan m:
                Copy(MaskHolders(m), dst);
                break;
            case AndPlan a:
                EvalAnd(a, dst, ct);
                break;
            case OrPlan o:
                dst.Clear();
                using (var tmp = new Scratch(Words))
                {
                    foreach (var child in o.Children)
                    {
                        if (child is PostingsPlan pp)
                        {
                            foreach (var l in pp.Lists)
                            {
                                l.OrInto(dst);
                            }
                        }
                        else
                        {
                            Eval(child, tmp.Span, ct);
                            Bits.Or(dst, tmp.Span);
                        }
                    }
                }

                break;
            case NotPlan n:
                Copy(_live, dst);
                AndNotChild(n.Child, dst, ct);
                break;
            default:
                throw new InvalidOperationException($"Unexpected plan {plan.GetType().Name}.");
        }
    }

    private void EvalAnd(AndPlan a, Span<ulong> dst, CancellationToken ct)
    {
        var children = a.Children.OrderBy(c => c.Estimate).ThenBy(c => c is NotPlan ? 1 : 0).ToList();
        var first = children[0];

        // A rare term first: test each of its few documents against the rest instead of building bitsets.
        if (first is PostingsPlan fp && fp.Lists.All(l => !l.IsDense) && fp.Estimate * 16 < Words)
        {
            dst.Clear();
            var rest = children.Skip(1).ToList();
            foreach (var l in fp.Lists)
            {
                foreach (var d in l.List)
                {
                    if (rest.TrueForAll(c => Test(c, d)))
                    {
                        Bits.Set(dst, d);
                    }
                }
            }

            return;
        }

        if (first is NotPlan)
        {
            Copy(_live, dst);
        }
        else if (first is PhrasePlan leadPhrase)
        {
            PhraseCandidates(leadPhrase, dst, ct);
            children.RemoveAt(0);
        }
        else
        {
            Eval(first, dst, ct);
            children.RemoveAt(0);
        }

        using var tmp = new Scratch(Words);
        var phrases = new List<PhrasePlan>();
        if (first is PhrasePlan firstPhrase)
        {
            phrases.Add(firstPhrase);
        }

        foreach (var child in children)
        {
            ct.ThrowIfCancellationRequested();
            switch (child)
            {
                case PostingsPlan { Lists.Count: 1 } single:
                    single.Lists[0].AndInto(dst, tmp.Span);
                    break;
                case PhrasePlan phrase:
                    // Narrow by the words now; confirm word order last, on what the other terms leave.
                    foreach (var l in phrase.Required)
                    {
                        l.AndInto(dst, tmp.Span);
                    }

                    if (phrase.Last is { } last)
                    {
                        Eval(last, tmp.Span, ct);
                        Bits.And(dst, tmp.Span);
                    }

                    phrases.Add(phrase);
                    break;
                case NotPlan n:
                    AndNotChild(n.Child, dst, ct);
                    break;
                default:
                    Eval(child, tmp.Span, ct);
                    Bits.And(dst, tmp.Span);
                    break;
            }
        }

        foreach (var phrase in phrases)
        {
            KeepPhraseMatches(phrase, dst, ct);
        }
    }

    private void AndNotChild(Plan child, Span<ulong> dst, CancellationToken ct)
    {
        if (child is PostingsPlan p)
        {
            foreach (var l in p.Lists)
            {
                l.AndNotInto(dst);
            }

            return;
        }

        using var tmp = new Scratch(Words);
        Eval(child, tmp.Span, ct);
        Bits.AndNot(dst, tmp.Span);
    }

    private void EvalRange(RangePlan r, Span<ulong> dst)
    {
        var (lo, hi) = (r.Range.Min, r.Range.Max);
        if (r.Field is not (RangeField.Date or RangeField.Taken))
        {
            lo = Math.Max(lo, 0); // missing values are −1
        }
        else if (r.Field == RangeField.Taken)
        {
            lo = Math.Max(lo, long.MinValue + 1); // missing is long.MinValue
        }

        var intColumn = r.Field is RangeField.Width or RangeField.Height or RangeField.Ratio or RangeField.TagCount or RangeField.FaceCount;
        if (lo > hi || (intColumn && (lo > int.MaxValue || hi < int.MinValue)))
        {
            dst.Clear();
            return;
        }

        switch (r.Field)
        {
            case RangeField.Width:
                Bits.Range<int>(_width, Clamp(lo), Clamp(hi), dst);
                break;
            case RangeField.Height:
                Bits.Range<int>(_height, Clamp(lo), Clamp(hi), dst);
                break;
            case RangeField.Ratio:
                Bits.Range<int>(_ratio, Clamp(lo), Clamp(hi), dst);
                break;
            case RangeField.TagCount:
                Bits.Range<int>(_tagCount, Clamp(lo), Clamp(hi), dst);
                break;
            case RangeField.FaceCount:
                Bits.Range<int>(_faceCount, Clamp(lo), Clamp(hi), dst);
                break;
            default:
                Bits.Range(LongColumn(r.Field), lo, hi, dst);
                break;
        }

        static int Clamp(long v) => (int)Math.Clamp(v, int.MinValue, int.MaxValue);
    }

    private long[] LongColumn(RangeField field) => field switch
    {
        RangeField.Pixels => _pixels,
        RangeField.FileSize => _size,
        RangeField.Date => _created,
        RangeField.Taken => _taken,
        _ => throw new ArgumentOutOfRangeException(nameof(field)),
    };

    private long Column(RangeField field, int d) => field switch
    {
        RangeField.Width => _width[d],
        RangeField.Height => _height[d],
        RangeField.Ratio => _ratio[d],
        RangeField.TagCount => _tagCount[d],
        RangeField.FaceCount => _faceCount[d],
        _ => LongColumn(field)[d],
    };

    private void EvalPhrase(PhrasePlan ph, Span<ulong> dst, CancellationToken ct)
    {
        PhraseCandidates(ph, dst, ct);
        KeepPhraseMatches(ph, dst, ct);
    }

    /// <summary>Documents that have all the phrase's words (in any order).</summary>
    private void PhraseCandidates(PhrasePlan ph, Span<ulong> dst, CancellationToken ct)
    {
        var lists = ph.Required.OrderBy(r => r.Count).ToList();
        if (lists.Count > 0)
        {
            dst.Clear();
            lists[0].OrInto(dst);
            using var tmp = new Scratch(Words);
            foreach (var l in lists.Skip(1))
            {
                l.AndInto(dst, tmp.Span);
            }

            if (ph.Last is { } last)
            {
                Eval(last, tmp.Span, ct);
                Bits.And(dst, tmp.Span);
            }
        }
        else
        {
            Eval(ph.Last!, dst, ct);
        }
    }

    /// <summary>Clears the documents whose captions do not have the phrase's words in a row.</summary>
    private void KeepPhraseMatches(PhrasePlan ph, Span<ulong> dst, CancellationToken ct)
    {
        for (var w = 0; w < dst.Length; w++)
        {
            var word = dst[w];
            while (word != 0)
            {
                var bit = BitOperations.TrailingZeroCount(word);
                word &= word - 1;
                if (!_captions.ContainsPhrase((w << 6) + bit, ph.Words, ph.LastAlternatives))
                {
                    dst[w] &= ~(1UL << bit);
                }
            }

            if ((w & 1023) == 0)
            {
                ct.ThrowIfCancellationRequested();
            }
        }
    }

    /// <summary>Whether one document matches a plan (for testing the few candidates of a rare term).</summary>
    private bool Test(Plan plan, int d) => plan switch
    {
        EmptyPlan => false,
        AllPlan => true,
        PostingsPlan p => p.Contains(d),
        RangePlan r => r.Range.Contains(Column(r.Field, d)) && RangeHasValue(r.Field, d),
        IdPrefixPlan i => MatchesId(i, d),
        PhrasePlan ph => ph.Required.All(r => r.Contains(d)) && (ph.Last?.Contains(d) ?? true) && _captions.ContainsPhrase(d, ph.Words, ph.LastAlternatives),
        SimilarPlan s => TestSimilar(s, d),
        MaskHolderPlan m => Bits.Get(MaskHolders(m), d),
        AndPlan a => a.Children.TrueForAll(c => Test(c, d)),
        OrPlan o => o.Children.Exists(c => Test(c, d)),
        NotPlan n => !Test(n.Child, d),
        _ => throw new InvalidOperationException($"Unexpected plan {plan.GetType().Name}."),
    };

    private bool RangeHasValue(RangeField field, int d) => field switch
    {
        RangeField.Date => true,
        RangeField.Taken => _taken[d] != long.MinValue,
        _ => Column(field, d) >= 0,
    };

    private bool TestSimilar(SimilarPlan s, int d) =>
        d != s.Target
        && Bits.Get(_hashed, d)
        && Bits.Get(_live, d)
        && (_kinds.Find(MediaKinds.Image, out _)?.Contains(d) ?? false)
        && s.Criteria.Matches(s.PHash, s.DHash, _phash[d], _dhash[d]);

    private ulong[] MaskHolders(MaskHolderPlan m)
    {
        if (m.Computed is { } done)
        {
            return done;
        }

        var bits = new ulong[Words];
        foreach (var (mask, source) in _maskSources)
        {
            if (Bits.Get(_live, mask) && FindId(source) is var d and >= 0)
            {
                Bits.Set(bits, d);
            }
        }

        m.Computed = bits;
        return bits;
    }

    private static void Copy(ReadOnlySpan<ulong> src, Span<ulong> dst)
    {
        var n = Math.Min(src.Length, dst.Length);
        src[..n].CopyTo(dst);
        dst[n..].Clear();
    }

    /// <summary>A pooled bitset of the current width.</summary>
    private readonly struct Scratch : IDisposable
    {
        private readonly ulong[] _array;
        private readonly int _words;

        public Scratch(int words)
        {
            _array = ArrayPool<ulong>.Shared.Rent(Math.Max(1, words));
            _words = words;
        }

        public Span<ulong> Span => _array.AsSpan(0, _words);

        public void Dispose() => ArrayPool<ulong>.Shared.Return(_array);
    }
}
