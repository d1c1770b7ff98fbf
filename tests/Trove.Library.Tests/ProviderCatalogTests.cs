using System.Text;
using Trove.Domain.Models;

namespace Trove.Library.Tests;

/// <summary>providers.json: read with file:line errors, validated as a whole, and never a place for a key.</summary>
public sealed class ProviderCatalogTests
{
    private static byte[] Bytes(string json) => Encoding.UTF8.GetBytes(json);

    [Fact]
    public void A_provider_round_trips_with_its_defaults()
    {
        var catalog = new ProviderCatalog { Providers = { new ProviderDefinition { Name = "vlm", Url = "http://127.0.0.1:8000/v1", Model = "qwen", ApiKeyEnv = "VLLM_KEY", RequestsPerMinute = 60 } } };
        var read = LibraryJson.ReadProviders(LibraryJson.Serialize(catalog), "providers.json");
        var provider = Assert.Single(read.Providers);
        Assert.Equal(ProviderKinds.OpenAi, provider.Kind);
        Assert.Equal(60, provider.TimeoutSeconds);
        Assert.Equal(60, provider.RequestsPerMinute);
        Assert.Equal("VLLM_KEY", provider.ApiKeyEnv);
        Assert.False(provider.SendOriginals);
    }

    [Fact]
    public void A_malformed_file_names_its_line()
    {
        var ex = Assert.Throws<FileFormatException>(() => LibraryJson.ReadProviders(Bytes("{\n  \"schema\": 1,\n  \"providers\": [ { \"name\": \"a\", } ,,]\n}"), "providers.json"));
        Assert.Equal("providers-malformed", ex.Code);
        Assert.Equal(3, ex.Line);
    }

    [Fact]
    public void Every_problem_is_listed_naming_the_provider()
    {
        const string json = """
            { "schema": 1, "providers": [
              { "name": "good", "kind": "openai", "url": "https://api.example.invalid/v1", "model": "m" },
              { "name": "bad", "kind": "grpc", "url": "https://user:sk-live-1@api.example.invalid", "model": "", "apiKeyEnv": "sk-live-123", "timeoutSeconds": 0, "maxConcurrency": 1000 },
              { "name": "good", "kind": "hf-inference", "url": "http://127.0.0.1:1", "model": "m" } ] }
            """;
        var ex = Assert.Throws<FileFormatException>(() => LibraryJson.ReadProviders(Bytes(json), "providers.json"));
        Assert.Equal("providers-invalid", ex.Code);
        foreach (var part in (string[])["provider 'bad': unknown kind 'grpc'", "without credentials", "names no model", "apiKeyEnv 'sk-live-123' is not an environment variable name", "timeoutSeconds is 0", "maxConcurrency is 1000", "provider 'good' is listed twice"])
        {
            Assert.Contains(part, ex.Message, StringComparison.Ordinal);
        }

        Assert.Contains("trove providers", ex.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void A_newer_schema_is_refused()
    {
        var ex = Assert.Throws<FileFormatException>(() => LibraryJson.ReadProviders(Bytes("""{ "schema": 9, "providers": [] }"""), "providers.json"));
        Assert.Equal("newer-schema", ex.Code);
    }

    [Theory]
    [InlineData("onnx", false)]
    [InlineData("local-vlm", true)]
    [InlineData("Local", false)]
    public void Names_are_ids_and_onnx_is_the_builtin_one(string name, bool valid) => Assert.Equal(valid, ProviderDefinition.IsValidName(name));
}
