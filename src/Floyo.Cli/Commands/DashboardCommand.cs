using System.CommandLine;
using Floyo.Recovery.Dashboard;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Cli.Commands;

/// <summary><c>floyo-dr dashboard [--days N] [--json]</c>: the Azure workbook's five views, computed from the store's own records.</summary>
internal static class DashboardCommand
{
    public static Command Create()
    {
        var days = new Option<int>("--days") { Description = $"How many days back (default {WorkbookViews.DefaultDays}, the workbook's range)", DefaultValueFactory = _ => WorkbookViews.DefaultDays };
        var json = new Option<bool>("--json") { Description = "Print the views as JSON (rows keyed by the workbook's column names)" };
        var command = new Command("dashboard", "Backups per day, recovery point age, last drills, open incidents and failures: the workbook's queries over this store's records") { days, json };
        command.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var report = await services.GetRequiredService<DashboardBuilder>().BuildAsync(result.GetValue(days), token);
            if (result.GetValue(json))
            {
                Output.Json(DashboardText.ToJson(report));
            }
            else
            {
                Console.Write(DashboardText.Render(report));
            }
            return 0;
        }, ct));
        return command;
    }
}
