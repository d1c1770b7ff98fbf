using Trove.Application.Providers;
using Trove.Domain.Models;

namespace Trove.Providers.Http;

/// <summary>
/// The <see cref="ProviderException"/>s the HTTP edge throws: each names the provider, the URL (without secrets), the
/// status and the attempts, says what to do, and never contains the API key.
/// </summary>
internal static class ProviderFailures
{
    public static ProviderException KeyMissing(ProviderDefinition provider, string variable) => new(
        ProviderErrors.KeyMissing,
        $"Provider '{provider.Name}' needs an API key in the environment variable {variable}, which is not set (or is empty) for this process.",
        $"Set {variable} in the environment Trove runs in (e.g. 'export {variable}=…' before 'trove serve'); the key is read at each call and never stored.",
        permanent: true,
        attempts: 0);

    public static ProviderException KeyUnusable(ProviderDefinition provider, string variable) => new(
        ProviderErrors.Auth,
        $"The environment variable {variable} (the API key of provider '{provider.Name}') holds characters that cannot be sent in an HTTP header (spaces, line breaks or non-ASCII).",
        $"Set {variable} to the key alone.",
        permanent: true,
        attempts: 0);

    public static ProviderException Invalid(ProviderDefinition provider, IReadOnlyList<string> errors) => new(
        ProviderErrors.Failed,
        $"Provider '{provider.Name}' is not usable: {string.Join("; ", errors)}.",
        "Fix it with 'trove providers add NAME … --replace'.",
        permanent: true,
        attempts: 0);

    public static ProviderException TransformUnsupported(ProviderDefinition provider) => new(
        ProviderErrors.Unsupported,
        $"Provider '{provider.Name}' is of kind '{provider.Kind}' (chat completions), which cannot answer with an image: image-to-image needs a provider of kind '{ProviderKinds.HfInference}'.",
        $"Add an {ProviderKinds.HfInference} provider for the image-to-image model ('trove providers add NAME --kind {ProviderKinds.HfInference} --url URL --model M', e.g. a Swin2SR endpoint) and use it instead of '{provider.Name}'.",
        permanent: true,
        attempts: 0);

    public static ProviderException Timeout(ProviderCall call, Exception inner)
    {
        var p = call.Provider;
        return Redacted(call, new ProviderException(
            ProviderErrors.Timeout,
            $"Provider '{p.Name}' did not answer within {p.TimeoutSeconds} s{OnAll(call.Attempts, "on any of")} ({call.DisplayUrl}).",
            $"Raise timeoutSeconds for '{p.Name}' in providers.json, or lower maxConcurrency ({p.MaxConcurrency}) if the service is overloaded; its own log says what it was doing.",
            status: null,
            attempts: call.Attempts,
            inner: inner));
    }

    public static ProviderException Unexpected(ProviderCall call, Exception e) => Redacted(call, new ProviderException(
        ProviderErrors.Failed,
        $"Calling provider '{call.Provider.Name}' ({call.DisplayUrl}) failed: {Redaction.OneLine(e.Message, call.Key)}",
        null,
        attempts: call.Attempts));

    public static ProviderException From(ProviderCall call, AttemptResult result)
    {
        var p = call.Provider;
        var n = call.Attempts;
        var status = result.Status is { } s ? $"{s} {result.Reason}".TrimEnd() : null;
        var said = result.Message is { Length: > 0 } m ? $": {m}" : string.Empty;
        var openAi = p.Kind == ProviderKinds.OpenAi;
        var exception = result.Failure switch
        {
            FailureKind.RateLimited => new ProviderException(
                ProviderErrors.RateLimited,
                $"Provider '{p.Name}' answered {status}{OnAll(n, "on all")} ({call.DisplayUrl}){said}",
                $"The service limits how fast it may be called: lower maxConcurrency ({p.MaxConcurrency}) or set a lower requestsPerMinute ({(p.RequestsPerMinute is { } rpm ? rpm.ToString(System.Globalization.CultureInfo.InvariantCulture) : "none now")}) for '{p.Name}' in providers.json, or run the job again later.",
                status: result.Status,
                attempts: n),
            FailureKind.Loading => new ProviderException(
                ProviderErrors.Loading,
                $"Provider '{p.Name}' was still loading model '{p.Model}'{OnAll(n, "after")} ({status} at {call.DisplayUrl}{(result.EstimatedSeconds is { } e ? $", estimated {e:0.#} s more" : string.Empty)}){said}",
                $"Wait until the service has loaded the model and run the job again, or raise maxAttempts ({p.MaxAttempts}) for '{p.Name}'.",
                status: result.Status,
                attempts: n),
            FailureKind.Unreachable => new ProviderException(
                ProviderErrors.Unreachable,
                $"Could not reach provider '{p.Name}' at {call.DisplayUrl}{OnAll(n, "on all")}: {result.Message}",
                $"Check that the service is running and listening there, and the url of '{p.Name}' in providers.json ('trove providers test {p.Name}').",
                attempts: n,
                inner: result.Exception),
            FailureKind.Truncated => new ProviderException(
                ProviderErrors.BadResponse,
                $"Provider '{p.Name}' closed the connection before its answer was complete{OnAll(n, "on all")} ({status} at {call.DisplayUrl}): {result.Message}",
                "The service, or a proxy in front of it, cut the answer off; its log should say why.",
                status: result.Status,
                attempts: n),
            FailureKind.NotJson => new ProviderException(
                ProviderErrors.BadResponse,
                $"Provider '{p.Name}' ({call.DisplayUrl}) answered {result.MediaType}, not JSON: is the URL the API's base URL?",
                openAi
                    ? "For an OpenAI-compatible server the url is its API base, usually ending in /v1 (e.g. http://127.0.0.1:8000/v1); Trove adds /chat/completions."
                    : "For hf-inference the url is the inference base URL (e.g. https://router.huggingface.co/hf-inference); Trove adds /models/MODEL.",
                status: result.Status,
                attempts: n),
            FailureKind.BadResponse => new ProviderException(
                ProviderErrors.BadResponse,
                $"Provider '{p.Name}' ({call.DisplayUrl}) answered {status}, but not as the {p.Kind} protocol says: {result.Message}.",
                openAi
                    ? "Check that the service is OpenAI-compatible (POST /v1/chat/completions) and that the model accepts images."
                    : "Check that the service speaks the HuggingFace inference API for this task (image-to-text for captions, image-classification for labels, image-to-image for transforms).",
                status: result.Status,
                attempts: n),
            FailureKind.NotImage => new ProviderException(
                ProviderErrors.BadResponse,
                $"Provider '{p.Name}' ({call.DisplayUrl}) answered {result.Message}",
                $"Image-to-image needs a model that answers an image (image/png, image/jpeg or image/webp), such as an image-restoration or super-resolution model: check the model id '{p.Model}' and that its endpoint runs the image-to-image task.",
                status: result.Status,
                attempts: n),
            FailureKind.Empty => new ProviderException(
                ProviderErrors.EmptyCaption,
                call.Operation == "classify"
                    ? $"Provider '{p.Name}' (model '{p.Model}') answered with no labels."
                    : $"Provider '{p.Name}' (model '{p.Model}') answered with an empty caption{(result.FinishReason is { } f ? $" (finish_reason: {f})" : string.Empty)}.",
                result.FinishReason == "length"
                    ? "The answer ran out of tokens before any text (a reasoning model spends them thinking): raise the maximum tokens."
                    : "Try another prompt, or a model that sees images.",
                status: result.Status,
                attempts: n),
            FailureKind.Auth => new ProviderException(
                ProviderErrors.Auth,
                $"Provider '{p.Name}' refused the request with {status} ({call.DisplayUrl}){said}",
                p.ApiKeyEnv is { } variable
                    ? $"Check the API key in the environment variable {variable}, and that it may use model '{p.Model}'."
                    : $"No API key was sent: set apiKeyEnv of '{p.Name}' to the name of the environment variable holding the key.",
                permanent: true,
                status: result.Status,
                attempts: n),
            FailureKind.ModelNotFound => new ProviderException(
                ProviderErrors.ModelNotFound,
                $"Provider '{p.Name}' answered {status} for model '{p.Model}' ({call.DisplayUrl}){(said.Length > 0 ? said : ": the model or the API path does not exist")}",
                openAi
                    ? $"Check that the service serves a model named '{p.Model}' (vLLM: --served-model-name; Ollama: 'ollama list'; GET /v1/models lists them) and that the url is the API base, usually ending in /v1."
                    : $"Check the model id '{p.Model}' and that the url is the inference base URL (e.g. https://router.huggingface.co/hf-inference).",
                permanent: true,
                status: result.Status,
                attempts: n),
            FailureKind.Redirect => new ProviderException(
                ProviderErrors.Failed,
                $"Provider '{p.Name}' answered {status} ({call.DisplayUrl}), redirecting to {result.Message ?? "another address"}.",
                "Trove does not follow redirects (the API key would go along): put the address it redirects to in providers.json.",
                permanent: true,
                status: result.Status,
                attempts: n),
            FailureKind.ServerError => new ProviderException(
                ProviderErrors.Failed,
                $"Provider '{p.Name}' failed with {status}{OnAll(n, "on all")} ({call.DisplayUrl}){said}",
                "The service reported an error of its own; its log says more. Trove retried with backoff.",
                status: result.Status,
                attempts: n),
            _ => new ProviderException(
                ProviderErrors.Failed,
                $"Provider '{p.Name}' rejected the request with {status} ({call.DisplayUrl}){said}",
                result.Status == 413
                    ? $"The image is too large for the service: lower imageMaxSide ({p.ImageMaxSide}) for '{p.Name}'."
                    : "Check that the model accepts images and the request settings (prompt, maximum tokens) suit it.",
                status: result.Status,
                attempts: n),
        };
        return Redacted(call, exception);
    }

    private static string Sentence(string text) => text.Length == 0 || text[^1] is '.' or '!' or '?' or '…' ? text : text + ".";

    private static string OnAll(int attempts, string phrase) => attempts <= 1 ? string.Empty : $" {phrase} {attempts} attempts";

    /// <summary>Belt and braces: whatever went into the text, the key does not come out. Also ends the message as a sentence.</summary>
    private static ProviderException Redacted(ProviderCall call, ProviderException e)
    {
        var message = Sentence(Redaction.Redact(e.Message, call.Key));
        var hint = e.Hint is null ? null : Redaction.Redact(e.Hint, call.Key);
        return message == e.Message && hint == e.Hint
            ? e
            : new ProviderException(e.Code, message, hint, e.Permanent, e.Status, e.Attempts, e.InnerException);
    }
}
