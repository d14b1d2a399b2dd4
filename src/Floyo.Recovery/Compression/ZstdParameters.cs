using System.Globalization;

namespace Floyo.Recovery.Compression;

/// <summary>
/// zstd's advanced compression parameters, applied on top of a level (an unset one keeps the level's value).
/// Written as <c>strategy=fast,windowLog=21,hashLog=18,minMatch=5</c>. The bounds keep every frame readable by
/// ZstdSharp's decoder with its defaults (restore uses it): a window of at most 2^27 bytes, as zstd's own
/// decoder accepts without <c>--long</c>.
/// </summary>
public sealed record ZstdParameters
{
    public static readonly ZstdParameters None = new();

    /// <summary>zstd's strategies in order (ZSTD_fast = 1 ... ZSTD_btultra2 = 9).</summary>
    private static readonly string[] Strategies = ["fast", "dfast", "greedy", "lazy", "lazy2", "btlazy2", "btopt", "btultra", "btultra2"];

    // ZSTD_cParameter values, shared by libzstd and ZstdSharp (zstd.h, stable since 1.4.0).
    internal const int WindowLogParameter = 101;
    internal const int HashLogParameter = 102;
    internal const int ChainLogParameter = 103;
    internal const int SearchLogParameter = 104;
    internal const int MinMatchParameter = 105;
    internal const int TargetLengthParameter = 106;
    internal const int StrategyParameter = 107;

    private static readonly (string Key, int Id, int Min, int Max)[] Keys =
    [
        ("strategy", StrategyParameter, 1, 9),
        ("windowLog", WindowLogParameter, 10, 27),
        ("hashLog", HashLogParameter, 6, 30),
        ("chainLog", ChainLogParameter, 6, 30),
        ("searchLog", SearchLogParameter, 1, 30),
        ("minMatch", MinMatchParameter, 3, 7),
        ("targetLength", TargetLengthParameter, 0, 131072),
    ];

    public int? Strategy { get; init; }
    public int? WindowLog { get; init; }
    public int? HashLog { get; init; }
    public int? ChainLog { get; init; }
    public int? SearchLog { get; init; }
    public int? MinMatch { get; init; }
    public int? TargetLength { get; init; }

    public bool IsEmpty => this == None;

    /// <summary>The parameters that are set, as (ZSTD_cParameter, value), for ZSTD_CCtx_setParameter.</summary>
    public IEnumerable<(int Parameter, int Value)> Settings()
    {
        foreach (var (key, id, _, _) in Keys)
        {
            if (Get(key) is { } value)
            {
                yield return (id, value);
            }
        }
    }

    /// <summary>Parses <c>key=value,...</c> (keys and strategy names case-insensitive; empty text: none set).</summary>
    /// <exception cref="FormatException">One line naming the key or value that is wrong and what is allowed.</exception>
    public static ZstdParameters Parse(string? text)
    {
        var parameters = None;
        if (string.IsNullOrWhiteSpace(text))
        {
            return parameters;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var parts = item.Split('=', 2, StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
            {
                throw new FormatException($"'{item}' is not key=value (e.g. strategy=fast,windowLog=21,hashLog=18,minMatch=5)");
            }
            var match = Array.FindIndex(Keys, k => string.Equals(k.Key, parts[0], StringComparison.OrdinalIgnoreCase));
            if (match < 0)
            {
                throw new FormatException($"unknown key '{parts[0]}' (allowed: {string.Join(", ", Keys.Select(k => k.Key))})");
            }
            var (key, _, min, max) = Keys[match];
            if (!seen.Add(key))
            {
                throw new FormatException($"{key} is given twice");
            }
            var value = ParseValue(key, parts[1], min, max);
            parameters = key switch
            {
                "strategy" => parameters with { Strategy = value },
                "windowLog" => parameters with { WindowLog = value },
                "hashLog" => parameters with { HashLog = value },
                "chainLog" => parameters with { ChainLog = value },
                "searchLog" => parameters with { SearchLog = value },
                "minMatch" => parameters with { MinMatch = value },
                _ => parameters with { TargetLength = value },
            };
        }
        return parameters;
    }

    public override string ToString() =>
        string.Join(',', Keys.Where(k => Get(k.Key) is not null).Select(k =>
            $"{k.Key}={(k.Key == "strategy" ? Strategies[Strategy!.Value - 1] : Get(k.Key)!.Value.ToString(CultureInfo.InvariantCulture))}"));

    private static int ParseValue(string key, string text, int min, int max)
    {
        if (key == "strategy")
        {
            var named = Array.FindIndex(Strategies, s => string.Equals(s, text, StringComparison.OrdinalIgnoreCase));
            if (named >= 0)
            {
                return named + 1;
            }
        }
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            var allowed = key == "strategy" ? $"{string.Join(", ", Strategies)} or 1-9" : $"{min}-{max}";
            throw new FormatException($"{key}={text} is out of range (allowed: {allowed})");
        }
        return value;
    }

    private int? Get(string key) => key switch
    {
        "strategy" => Strategy,
        "windowLog" => WindowLog,
        "hashLog" => HashLog,
        "chainLog" => ChainLog,
        "searchLog" => SearchLog,
        "minMatch" => MinMatch,
        _ => TargetLength,
    };
}
