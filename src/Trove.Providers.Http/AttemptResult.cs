namespace Trove.Providers.Http;

/// <summary>What went wrong in one attempt (the exceptions of the transport and the Polly timeout aside).</summary>
internal enum FailureKind
{
    None,
    RateLimited,
    Loading,
    Unreachable,
    Truncated,
    NotJson,
    BadResponse,
    NotImage,
    Auth,
    ModelNotFound,
    ClientError,
    Redirect,
    ServerError,
    Empty,
}

/// <summary>
/// The outcome of one HTTP attempt, as the retry strategy sees it: a parsed answer, or a classified failure with
/// whether another attempt may help and how long the service asked to wait first.
/// </summary>
internal sealed class AttemptResult
{
    private AttemptResult(FailureKind failure, object? payload)
    {
        Failure = failure;
        Payload = payload;
    }

    public FailureKind Failure { get; }

    public bool Ok => Failure == FailureKind.None;

    public object? Payload { get; }

    public bool Retryable { get; private init; }

    public int? Status { get; private init; }

    public string? Reason { get; private init; }

    /// <summary>The service's own error message (already redacted), or a description of what was wrong with the answer.</summary>
    public string? Message { get; private init; }

    /// <summary>How long to wait before the next attempt when the service said (Retry-After, estimated_time), capped.</summary>
    public TimeSpan? Wait { get; private init; }

    /// <summary>The estimated_time of a 503 "loading", in seconds.</summary>
    public double? EstimatedSeconds { get; private init; }

    public string? MediaType { get; private init; }

    public string? FinishReason { get; private init; }

    public Exception? Exception { get; private init; }

    public static AttemptResult Success(object payload, int status) => new(FailureKind.None, payload) { Status = status };

    public static AttemptResult Fail(
        FailureKind failure,
        bool retryable,
        int? status = null,
        string? reason = null,
        string? message = null,
        TimeSpan? wait = null,
        double? estimatedSeconds = null,
        string? mediaType = null,
        string? finishReason = null,
        Exception? exception = null) =>
        new(failure, null)
        {
            Retryable = retryable,
            Status = status,
            Reason = reason,
            Message = message,
            Wait = wait,
            EstimatedSeconds = estimatedSeconds,
            MediaType = mediaType,
            FinishReason = finishReason,
            Exception = exception,
        };

    public override string ToString() => Ok ? $"ok {Status}" : Status is { } status ? $"{Failure} {status}" : Failure.ToString();
}
