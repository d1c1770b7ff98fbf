namespace Trove.Search.Query;

/// <summary>Where a piece of the query text is: 0-based <see cref="Start"/>, <see cref="Length"/> characters.</summary>
public readonly record struct SourceSpan(int Start, int Length)
{
    /// <summary>1-based column, as error messages say it.</summary>
    public int Column => Start + 1;

    public int End => Start + Length;

    public static SourceSpan Cover(SourceSpan a, SourceSpan b)
    {
        var start = Math.Min(a.Start, b.Start);
        return new SourceSpan(start, Math.Max(a.End, b.End) - start);
    }
}

/// <summary>A node of a parsed query. Every node knows where it came from in the text.</summary>
public abstract record QueryNode(SourceSpan Span);

/// <summary>Every child must match (whitespace between terms).</summary>
public sealed record AndNode(IReadOnlyList<QueryNode> Children, SourceSpan Span) : QueryNode(Span);

/// <summary>At least one child must match (<c>a or b</c>).</summary>
public sealed record OrNode(IReadOnlyList<QueryNode> Children, SourceSpan Span) : QueryNode(Span);

/// <summary>The child must not match (<c>-term</c>, <c>-(…)</c>).</summary>
public sealed record NotNode(QueryNode Child, SourceSpan Span) : QueryNode(Span);

/// <summary>
/// A tag, normalised (lowercase, underscores) but not yet alias-resolved. <see cref="MetatagLike"/> is set when the
/// text looked like <c>name:value</c> with an unknown name: it is a tag only if the library has such a tag.
/// </summary>
public sealed record TagTerm(string Name, SourceSpan Span, string? MetatagLike = null) : QueryNode(Span);

/// <summary>Any tag whose name matches a pattern with <c>*</c> (any run of characters).</summary>
public sealed record WildcardTerm(string Pattern, SourceSpan Span) : QueryNode(Span);

/// <summary>Numeric columns a range metatag can compare.</summary>
public enum RangeField
{
    Width,
    Height,

    /// <summary>Width × height in pixels (<c>mpixels:</c> is in millions).</summary>
    Pixels,

    /// <summary>Width / height × 100, rounded (<c>ratio:16:9</c> is 178).</summary>
    Ratio,
    FileSize,

    /// <summary>When the media was added, Unix milliseconds UTC.</summary>
    Date,

    /// <summary>When the photo was taken (EXIF), Unix milliseconds UTC.</summary>
    Taken,
    TagCount,

    /// <summary>Faces that count (usable, not rejected): <c>faces:2</c>, <c>faces:&gt;=3</c>.</summary>
    FaceCount,
}

/// <summary>A closed interval [<see cref="Min"/>, <see cref="Max"/>] on a field's integer scale.</summary>
public readonly record struct LongRange(long Min, long Max)
{
    public bool IsEmpty => Min > Max;

    public bool Contains(long value) => value >= Min && value <= Max;
}

/// <summary><c>width:&gt;1000</c>, <c>date:2025-01..2025-06</c>: a column within a closed range.</summary>
public sealed record RangeTerm(RangeField Field, LongRange Range, SourceSpan Span) : QueryNode(Span);

/// <summary>Metatags whose value is one of a set of names.</summary>
public enum ChoiceField
{
    Kind,
    Type,
    Uploader,
    Collection,

    /// <summary><c>caption-status:pending</c>: the media has a caption in that review state.</summary>
    CaptionStatus,

    /// <summary><c>model:ID</c>: the media was made by that image-to-image model.</summary>
    DerivedModel,
}

/// <summary><c>kind:image</c>, <c>type:png,webp</c>, <c>uploader:ann</c>, <c>collection:"Red things"</c>: any of the values.</summary>
public sealed record ChoiceTerm(ChoiceField Field, IReadOnlyList<string> Values, SourceSpan Span) : QueryNode(Span);

public enum HasWhat
{
    Caption,
    Crop,
    Mask,
    Suggestions,

    /// <summary><c>derived:yes</c>: made from another media by a model.</summary>
    Derived,

    /// <summary><c>has:face</c>: at least one face that counts.</summary>
    Face,

    /// <summary><c>has:unknown-face</c>: a face that counts and is not confirmed as anybody.</summary>
    UnknownFace,
}

/// <summary><c>person:NAME</c> (a confirmed face of the person) or <c>person-suggested:NAME</c> (a face suggested for them, waiting for review); NAME is a name, an alias or a person id.</summary>
public sealed record PersonTerm(string Name, bool Suggested, SourceSpan Span) : QueryNode(Span);

/// <summary><c>derivedfrom:3fd6e6</c>: media made from the media whose id starts with the prefix.</summary>
public sealed record DerivedFromTerm(string IdPrefix, SourceSpan Span) : QueryNode(Span);

/// <summary><c>has:caption</c>: the media has at least one of these.</summary>
public sealed record HasTerm(HasWhat What, SourceSpan Span) : QueryNode(Span);

/// <summary><c>suggested:TAG</c> (or a wildcard): a pending tag suggestion for the tag.</summary>
public sealed record SuggestedTerm(string Pattern, SourceSpan Span) : QueryNode(Span)
{
    public bool IsWildcard => Pattern.Contains('*', StringComparison.Ordinal);
}

/// <summary>
/// <c>caption:word</c>, <c>caption:wor*</c> (prefix) or <c>caption:"a phrase"</c>: words of any caption of the media,
/// case- and accent-insensitive. A phrase's words must be consecutive within one caption.
/// </summary>
public sealed record CaptionTerm(IReadOnlyList<string> Words, bool LastIsPrefix, SourceSpan Span) : QueryNode(Span);

/// <summary><c>similar:ID</c>: images within perceptual distance <see cref="Distance"/> of the image.</summary>
public sealed record SimilarTerm(string IdPrefix, int Distance, SourceSpan Span) : QueryNode(Span);

/// <summary><c>id:PREFIX</c>: ids starting with the hex prefix.</summary>
public sealed record IdPrefixTerm(string Prefix, SourceSpan Span) : QueryNode(Span);

public enum SortField
{
    Created,
    Id,
    Width,
    Height,
    Pixels,
    FileSize,
    TagCount,
    Random,

    /// <summary>By similarity to a <c>semantic:</c> or <c>like:</c> term, best first (the order when no <c>order:</c> is given).</summary>
    Score,
}

/// <summary>How results are sorted; ties are always broken by id, ascending, so every order is total and stable.</summary>
public sealed record OrderSpec(SortField Field, bool Descending, ulong? Seed = null)
{
    public static OrderSpec Newest { get; } = new(SortField.Created, true);
}

/// <summary>What a similarity term compares with.</summary>
public enum RankingKind
{
    /// <summary><c>semantic:"a dog on a beach"</c>: the text's embedding (text → image).</summary>
    Text,

    /// <summary><c>like:3fd6e6</c>: the embedding of a media (image → image); the media itself is left out.</summary>
    Media,
}

/// <summary>
/// A <c>semantic:</c> or <c>like:</c> term, lifted out of the condition tree into <see cref="ParsedQuery.Ranking"/>: the
/// rest of the query filters, this ranks what passes. <see cref="Value"/> is the text, or the id prefix (lowercase).
/// </summary>
public sealed record RankingTerm(RankingKind Kind, string Value, SourceSpan Span) : QueryNode(Span);

/// <summary>
/// A parsed query: the condition tree (null for "everything") and the order; with a <see cref="Ranking"/> term the
/// order is by similarity unless <c>order:</c> was given (<see cref="OrderSpan"/> is then set), and
/// <see cref="MinScore"/> (<c>min-score:0.25</c>) leaves out media less similar than that.
/// </summary>
public sealed record ParsedQuery(string Text, QueryNode? Root, OrderSpec Order, SourceSpan? OrderSpan)
{
    public RankingTerm? Ranking { get; init; }

    public float? MinScore { get; init; }

    public SourceSpan? MinScoreSpan { get; init; }

    /// <summary>Whether results come in order of similarity (a ranking term and no <c>order:</c>).</summary>
    public bool RankedBySimilarity => Ranking is not null && OrderSpan is null;
}
