using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Trove.Domain;

namespace Trove.Application.Models;

/// <summary>
/// Reads the <c>parameters</c> object of a model's entry in models.json, refusing anything of the wrong type with
/// <c>model-parameters-invalid</c> naming the model, the field (<c>parameters.PATH</c>), what was found, and the
/// section of docs/models.md that explains the field. Shared by every kind's parameter parser.
/// </summary>
public sealed class ParameterReader(JsonObject parameters, string model, string section, string prefix = "")
{
    public JsonObject Parameters { get; } = parameters;

    /// <summary>The error for a field: "Model 'M': parameters.PATH DETAIL."</summary>
    public TroveUsageException Bad(string path, string detail) => new(
        "model-parameters-invalid",
        $"Model '{model}': parameters.{prefix}{path} {detail}.",
        $"Fix the model's parameters in models.json (see docs/models.md{(section.Length == 0 ? string.Empty : $", \"{section}\"")}).");

    /// <summary>A string field, or null when absent.</summary>
    public string? Text(string name) => Text(Parameters[name], name);

    public string? Text(JsonNode? node, string path) =>
        node is null ? null
        : node is JsonValue v && v.TryGetValue<string>(out var s) ? s
        : throw Bad(path, $"must be a string, found {node.ToJsonString()}");

    /// <summary>A number field, or null when absent.</summary>
    public double? Number(string name)
    {
        var node = Parameters[name];
        return node is null ? null
            : node is JsonValue v && v.TryGetValue<double>(out var d) ? d
            : throw Bad(name, $"must be a number, found {node.ToJsonString()}");
    }

    /// <summary>A whole-number field (1 and 1.0 alike), or null when absent.</summary>
    public long? Whole(string name)
    {
        var node = Parameters[name];
        if (node is null)
        {
            return null;
        }

        if (node is JsonValue && node.GetValueKind() == JsonValueKind.Number)
        {
            var d = double.Parse(node.ToJsonString(), CultureInfo.InvariantCulture);
            return d == Math.Floor(d) && Math.Abs(d) < 1e15 ? (long)d : throw Bad(name, $"is {d.ToString(CultureInfo.InvariantCulture)}; use a whole number");
        }

        throw Bad(name, $"must be a whole number, found {node.ToJsonString()}");
    }

    /// <summary>A value of a JSON primitive type (number or boolean), or null when absent.</summary>
    public T? Value<T>(JsonNode? node, string path)
        where T : struct
    {
        if (node is null)
        {
            return null;
        }

        try
        {
            return node.GetValue<T>();
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException)
        {
            throw Bad(path, $"must be {(typeof(T) == typeof(bool) ? "true or false" : "a number")}, found {node.ToJsonString()}");
        }
    }

    /// <summary>Refuses any field not in <paramref name="fields"/>, listing them.</summary>
    public void OnlyFields(IReadOnlyList<string> fields, string kind)
    {
        ArgumentNullException.ThrowIfNull(fields);
        foreach (var (key, _) in Parameters)
        {
            if (!fields.Contains(key, StringComparer.Ordinal))
            {
                throw Bad(key, $"is not {kind} setting ({string.Join(", ", fields)})");
            }
        }
    }
}
