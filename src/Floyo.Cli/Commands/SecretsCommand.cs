using Floyo.Recovery.Backups;
using System.CommandLine;
using Floyo.Recovery;
using Floyo.Recovery.Secrets;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Cli.Commands;

/// <summary>Inspect and seed the secret store. Values are read from stdin and never printed.</summary>
internal static class SecretsCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "Secret name (letters, digits, '-')" };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var list = new Command("list", "Versions of one secret, or every secret tagged for rotation (names, versions, tags; never values)") { json };
        var listName = new Argument<string?>("name") { Arity = ArgumentArity.ZeroOrOne, Description = "Secret name; all secrets tagged for rotation when omitted" };
        list.Add(listName);
        list.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var store = services.GetRequiredService<ISecretStore>();
            var secret = result.GetValue(listName);
            var versions = secret is null ? await store.ListTaggedForRotationAsync(token) : await store.ListVersionsAsync(secret, token);
            if (result.GetValue(json))
            {
                Output.Json(versions);
                return 0;
            }
            if (versions.Count == 0)
            {
                Console.WriteLine(secret is null ? $"no secrets tagged for rotation in {store.Location}" : $"no secret '{secret}' in {store.Location}");
            }
            foreach (var v in versions)
            {
                var tags = string.Join(" ", v.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}"));
                Console.WriteLine($"{v.Name,-28} {v.Version}  {(v.Enabled ? "enabled " : "disabled")}  {BackupSummary.Iso(v.CreatedOn)}  {tags}");
            }
            return 0;
        }, ct));

        var tag = new Option<string[]>("--tag") { Description = "key=value tag (repeatable), e.g. --tag floyo-rotation=random", AllowMultipleArgumentsPerToken = false };
        var generate = new Option<bool>("--generate") { Description = "Store a new random value instead of reading stdin" };
        var set = new Command("set", "Add a version read from stdin (one line), or a random one with --generate") { name, tag, generate };
        set.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var tags = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in result.GetValue(tag) ?? [])
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    return CliHost.Fail($"--tag '{pair}' is not key=value", ErrorKind.Usage);
                }
                tags[pair[..eq]] = pair[(eq + 1)..];
            }
            string value;
            if (result.GetValue(generate))
            {
                value = RandomSecret.Create();
            }
            else
            {
                // stdin, so the value is in neither the shell history nor the process list.
                value = (await Console.In.ReadLineAsync(token))?.TrimEnd('\r', '\n') ?? "";
                if (value.Length == 0)
                {
                    throw new UsageException("no value on stdin: pipe the value in, or pass --generate");
                }
            }
            var store = services.GetRequiredService<ISecretStore>();
            var version = await store.SetAsync(result.GetValue(name)!, value, tags, null, token);
            Console.WriteLine($"stored {version.Name} version {version.Version} in {store.Location}");
            return 0;
        }, ct));
        return new Command("secrets", "The secret store (Key Vault or the local file)") { list, set };
    }
}
