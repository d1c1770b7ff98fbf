using System.CommandLine;
using System.Globalization;
using Trove.Application.Providers;
using Trove.Domain.Models;

namespace Trove.Cli;

public static partial class TroveCli
{
    private sealed partial class Commands
    {
        /// <summary>trove providers list|add|remove|test — remote inference services (providers.json; never a key).</summary>
        public Command Providers()
        {
            var cmd = new Command("providers", "Remote model providers: OpenAI-compatible and HuggingFace-style inference services");
            var name = new Argument<string>("NAME");

            var list = new Command("list", "List the providers (keys are never shown; only which variable holds one and whether it is set)");
            list.SetAction((p, ct) => Run(p, ct, true, (ctx, library) =>
            {
                var providers = new ProviderRegistry(library!).List();
                ctx.Output.Result(new { providers = providers.Select(ProviderJson) }, w =>
                {
                    w.WriteLine($"{"onnx",-16} {"onnx",-12} (built in: local model files through ONNX Runtime)");
                    foreach (var provider in providers)
                    {
                        w.WriteLine($"{provider.Name,-16} {provider.Kind,-12} {provider.Url} model {provider.Model}{KeyNote(provider)}; timeout {provider.TimeoutSeconds} s, {provider.MaxConcurrency} at once{(provider.RequestsPerMinute is { } rpm ? $", {rpm}/min" : string.Empty)}, {provider.MaxAttempts} attempts");
                    }
                });
                return Task.FromResult(0);
            }));

            var kind = new Option<string>("--kind") { Description = "openai (OpenAI-compatible: OpenAI, vLLM, llama.cpp, Ollama, LM Studio) or hf-inference", Required = true };
            var url = new Option<string>("--url") { Description = "Base URL, e.g. http://127.0.0.1:8000/v1", Required = true };
            var model = new Option<string>("--model") { Description = "The model name the service knows", Required = true };
            var keyEnv = new Option<string?>("--api-key-env") { Description = "The NAME of the environment variable holding the API key (the key is never stored)" };
            var rpm = new Option<int?>("--rpm") { Description = "Requests per minute at most, from this process" };
            var timeout = new Option<int?>("--timeout") { Description = $"Seconds to wait for an answer (default {ProviderDefinition.DefaultTimeoutSeconds})" };
            var concurrency = new Option<int?>("--concurrency") { Description = $"Requests in flight at once (default {ProviderDefinition.DefaultMaxConcurrency})" };
            var attempts = new Option<int?>("--attempts") { Description = $"Attempts per request, the first included (default {ProviderDefinition.DefaultMaxAttempts})" };
            var imageSize = new Option<int?>("--image-size") { Description = $"Longest side of the JPEG sent (default {ProviderDefinition.DefaultImageMaxSide})" };
            var originals = new Option<bool>("--send-originals") { Description = "Send original files instead of downscaled copies" };
            var description = new Option<string?>("--description") { Description = "A note for people" };
            var replace = new Option<bool>("--replace") { Description = "Replace a provider of the same name" };
            var add = new Command("add", "Add a provider") { name, kind, url, model, keyEnv, rpm, timeout, concurrency, attempts, imageSize, originals, description, replace };
            add.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var provider = new ProviderDefinition
                {
                    Name = p.GetValue(name)!,
                    Kind = p.GetValue(kind)!.Trim().ToLowerInvariant(),
                    Url = p.GetValue(url)!.Trim(),
                    Model = p.GetValue(model)!.Trim(),
                    ApiKeyEnv = p.GetValue(keyEnv) is { Length: > 0 } env ? env.Trim() : null,
                    RequestsPerMinute = p.GetValue(rpm),
                    TimeoutSeconds = p.GetValue(timeout) ?? ProviderDefinition.DefaultTimeoutSeconds,
                    MaxConcurrency = p.GetValue(concurrency) ?? ProviderDefinition.DefaultMaxConcurrency,
                    MaxAttempts = p.GetValue(attempts) ?? ProviderDefinition.DefaultMaxAttempts,
                    ImageMaxSide = p.GetValue(imageSize) ?? ProviderDefinition.DefaultImageMaxSide,
                    SendOriginals = p.GetValue(originals),
                    Description = p.GetValue(description),
                };
                await new ProviderRegistry(library!).AddAsync(provider, p.GetValue(replace), ct).ConfigureAwait(false);
                ctx.Output.Result(new { provider = ProviderJson(provider) }, w =>
                {
                    w.WriteLine($"Added provider '{provider.Name}' ({provider.Kind} at {provider.Url}, model {provider.Model}){KeyNote(provider)}.");
                    w.WriteLine($"Check it with: trove providers test {provider.Name}");
                });
                return 0;
            }));

            var remove = new Command("remove", "Remove a provider (refused while a model runs on it)") { name };
            remove.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                await new ProviderRegistry(library!).RemoveAsync(p.GetValue(name)!, ct).ConfigureAwait(false);
                ctx.Output.Result(new { removed = p.GetValue(name) }, w => w.WriteLine($"Removed provider '{p.GetValue(name)}'."));
                return 0;
            }));

            var test = new Command("test", "Send one tiny request and report the latency or the exact failure") { name };
            test.SetAction((p, ct) => Run(p, ct, true, async (ctx, library) =>
            {
                var probe = await new ProviderRegistry(library!).TestAsync(p.GetValue(name)!, ct).ConfigureAwait(false);
                ctx.Output.Result(
                    new { provider = probe.Provider, ok = probe.Ok, latencyMs = Math.Round(probe.Latency.TotalMilliseconds), status = probe.Status, code = probe.Code, message = probe.Message },
                    w => w.WriteLine(probe.Ok
                        ? $"{probe.Provider}: ok in {probe.Latency.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)} ms: {probe.Message}"
                        : $"{probe.Provider}: {probe.Code}{(probe.Status is { } s ? $" (HTTP {s})" : string.Empty)} after {probe.Latency.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)} ms: {probe.Message}"));
                return probe.Ok ? 0 : 1;
            }));

            foreach (var c in new[] { list, add, remove, test })
            {
                cmd.Subcommands.Add(c);
            }

            return cmd;
        }

        private static object ProviderJson(ProviderDefinition p) => new
        {
            name = p.Name,
            kind = p.Kind,
            url = p.Url,
            model = p.Model,
            apiKeyEnv = p.ApiKeyEnv,
            apiKeySet = p.ApiKeyEnv is { } env && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(env)),
            timeoutSeconds = p.TimeoutSeconds,
            maxConcurrency = p.MaxConcurrency,
            requestsPerMinute = p.RequestsPerMinute,
            maxAttempts = p.MaxAttempts,
            imageMaxSide = p.ImageMaxSide,
            imageQuality = p.ImageQuality,
            sendOriginals = p.SendOriginals,
            description = p.Description,
        };

        private static string KeyNote(ProviderDefinition p) =>
            p.ApiKeyEnv is not { } env ? ", no API key"
            : string.IsNullOrEmpty(Environment.GetEnvironmentVariable(env)) ? $", key from ${env} (NOT SET in this environment)"
            : $", key from ${env}";
    }
}
