#!/usr/bin/env python3
"""Writes the sample procedure catalogue of a province (Hưng Yên, unit H31).

    tests/testing/make_sample_catalogue.py [--out deploy/examples]

writes catalogue.json and catalogue.csv with the same 415 procedures: the
format `lienthong sync procedures --file` reads (gateway/cli/catalogue.h).

Everything is synthetic. The names follow the kinds of procedures a
Vietnamese province publishes, per field; the codes are made-up numbers in
the provincial form G.NNNNNN.000.00.00.H31 (only 1.001193, the project's
running example for birth registration, is fixed), and do not follow the
national catalogue. Agencies follow the provincial departments after the
mergers of 2025 (the district level no longer exists), processing times,
fees, documents and legal bases are plausible inventions.

The output is deterministic (a fixed seed), so regenerating gives the same
files; they are committed because the tests read them and python3 may not be
on a build machine. Run it again after changing this script, and commit both
files.
"""

import argparse
import csv
import io
import json
import os
import random
import sys

SEED = 20250715
PROVINCE = "Hưng Yên"
SUFFIX = "H31"
TOTAL = 415

XA = "Cấp xã"
TINH = "Cấp tỉnh"
FULLY = "fully_online"
PARTLY = "partly_online"

# Field -> (provincial agency, share of fully-online services, names).
# Each name is (name, level) with level "t" (provincial), "x" (commune) or
# "tx" (published at both levels, as separate procedures).
FIELDS = [
    ("Hộ tịch", "Sở Tư pháp", 0.8, [
        ("Đăng ký khai sinh", "x"),
        ("Đăng ký kết hôn", "x"),
        ("Đăng ký nhận cha, mẹ, con", "x"),
        ("Đăng ký khai sinh kết hợp đăng ký nhận cha, mẹ, con", "x"),
        ("Đăng ký khai tử", "x"),
        ("Đăng ký khai sinh lưu động", "x"),
        ("Đăng ký kết hôn lưu động", "x"),
        ("Đăng ký khai tử lưu động", "x"),
        ("Đăng ký giám hộ", "x"),
        ("Đăng ký chấm dứt giám hộ", "x"),
        ("Thay đổi, cải chính, bổ sung thông tin hộ tịch", "x"),
        ("Cấp Giấy xác nhận tình trạng hôn nhân", "x"),
        ("Đăng ký lại khai sinh", "x"),
        ("Đăng ký khai sinh cho người đã có hồ sơ, giấy tờ cá nhân", "x"),
        ("Đăng ký lại kết hôn", "x"),
        ("Đăng ký lại khai tử", "x"),
        ("Liên thông thủ tục hành chính về đăng ký khai sinh, đăng ký "
         "thường trú, cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi", "x"),
        ("Liên thông thủ tục hành chính về đăng ký khai tử, xóa đăng ký "
         "thường trú, hưởng chế độ tử tuất, trợ cấp mai táng", "x"),
        ("Đăng ký khai sinh có yếu tố nước ngoài", "x"),
        ("Đăng ký kết hôn có yếu tố nước ngoài", "x"),
        ("Đăng ký khai tử có yếu tố nước ngoài", "x"),
        ("Đăng ký nhận cha, mẹ, con có yếu tố nước ngoài", "x"),
        ("Đăng ký giám hộ có yếu tố nước ngoài", "x"),
        ("Ghi vào Sổ hộ tịch việc kết hôn của công dân Việt Nam đã được "
         "giải quyết tại cơ quan có thẩm quyền của nước ngoài", "x"),
        ("Ghi vào Sổ hộ tịch việc ly hôn, hủy việc kết hôn của công dân "
         "Việt Nam đã được giải quyết tại cơ quan có thẩm quyền của nước "
         "ngoài", "x"),
        ("Thay đổi, cải chính, bổ sung thông tin hộ tịch, xác định lại dân "
         "tộc có yếu tố nước ngoài", "x"),
        ("Cấp bản sao trích lục hộ tịch", "tx"),
        ("Cấp văn bản xác nhận thông tin hộ tịch", "tx"),
    ]),
    ("Nuôi con nuôi", "Sở Tư pháp", 0.2, [
        ("Đăng ký việc nuôi con nuôi trong nước", "x"),
        ("Đăng ký lại việc nuôi con nuôi trong nước", "x"),
        ("Đăng ký việc nuôi con nuôi có yếu tố nước ngoài", "t"),
        ("Giải quyết việc người nước ngoài thường trú ở Việt Nam nhận trẻ "
         "em Việt Nam làm con nuôi", "t"),
        ("Ghi vào sổ đăng ký nuôi con nuôi việc nuôi con nuôi đã được giải "
         "quyết tại cơ quan có thẩm quyền của nước ngoài", "t"),
    ]),
    ("Chứng thực", "Sở Tư pháp", 0.5, [
        ("Cấp bản sao từ sổ gốc", "x"),
        ("Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan có "
         "thẩm quyền của Việt Nam cấp hoặc chứng nhận", "x"),
        ("Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan có "
         "thẩm quyền của nước ngoài cấp hoặc chứng nhận", "x"),
        ("Chứng thực chữ ký trong các giấy tờ, văn bản", "x"),
        ("Chứng thực chữ ký người dịch mà người dịch là cộng tác viên dịch "
         "thuật", "x"),
        ("Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản, "
         "quyền sử dụng đất và nhà ở", "x"),
        ("Chứng thực di chúc", "x"),
        ("Chứng thực văn bản từ chối nhận di sản", "x"),
        ("Chứng thực văn bản thỏa thuận phân chia di sản mà di sản là động "
         "sản, quyền sử dụng đất, nhà ở", "x"),
        ("Chứng thực văn bản khai nhận di sản mà di sản là động sản, quyền "
         "sử dụng đất, nhà ở", "x"),
        ("Chứng thực việc sửa đổi, bổ sung, hủy bỏ hợp đồng, giao dịch", "x"),
        ("Sửa lỗi sai sót trong hợp đồng, giao dịch đã được chứng thực", "x"),
        ("Cấp bản sao có chứng thực từ bản chính hợp đồng, giao dịch đã "
         "được chứng thực", "x"),
        ("Chứng thực bản sao điện tử từ bản chính", "x"),
    ]),
    ("Lý lịch tư pháp", "Sở Tư pháp", 1.0, [
        ("Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài "
         "đang cư trú tại Việt Nam", "t"),
        ("Cấp Phiếu lý lịch tư pháp cho cơ quan tiến hành tố tụng", "t"),
        ("Cấp Phiếu lý lịch tư pháp cho cơ quan nhà nước, tổ chức chính "
         "trị, tổ chức chính trị - xã hội", "t"),
        ("Cấp Phiếu lý lịch tư pháp qua ứng dụng định danh điện tử", "t"),
    ]),
    ("Công chứng", "Sở Tư pháp", 0.4, [
        ("Thành lập Văn phòng công chứng", "t"),
        ("Đăng ký hoạt động Văn phòng công chứng", "t"),
        ("Thay đổi nội dung đăng ký hoạt động của Văn phòng công chứng", "t"),
        ("Hợp nhất Văn phòng công chứng", "t"),
        ("Sáp nhập Văn phòng công chứng", "t"),
        ("Chuyển nhượng Văn phòng công chứng", "t"),
        ("Đăng ký hành nghề và cấp Thẻ công chứng viên", "t"),
        ("Cấp lại Thẻ công chứng viên", "t"),
        ("Xóa đăng ký hành nghề và thu hồi Thẻ công chứng viên", "t"),
        ("Công chứng hợp đồng, giao dịch đã được soạn thảo sẵn", "t"),
        ("Công chứng di chúc", "t"),
    ]),
    ("Luật sư", "Sở Tư pháp", 0.6, [
        ("Đăng ký hoạt động của tổ chức hành nghề luật sư", "t"),
        ("Thay đổi người đại diện theo pháp luật của văn phòng luật sư, "
         "công ty luật trách nhiệm hữu hạn một thành viên", "t"),
        ("Đăng ký hoạt động của chi nhánh của tổ chức hành nghề luật sư", "t"),
        ("Đăng ký hành nghề luật sư với tư cách cá nhân", "t"),
        ("Hợp nhất công ty luật", "t"),
        ("Chấm dứt hoạt động của tổ chức hành nghề luật sư", "t"),
    ]),
    ("Trợ giúp pháp lý", "Sở Tư pháp", 0.7, [
        ("Yêu cầu trợ giúp pháp lý", "t"),
        ("Đăng ký tham gia trợ giúp pháp lý", "t"),
        ("Lựa chọn, ký hợp đồng với luật sư thực hiện trợ giúp pháp lý", "t"),
        ("Cấp lại thẻ cộng tác viên trợ giúp pháp lý", "t"),
    ]),
    ("Đấu giá tài sản", "Sở Tư pháp", 0.6, [
        ("Đăng ký hoạt động doanh nghiệp đấu giá tài sản", "t"),
        ("Thay đổi nội dung đăng ký hoạt động của doanh nghiệp đấu giá tài "
         "sản", "t"),
        ("Cấp Thẻ đấu giá viên", "t"),
    ]),
    ("Tư pháp", "Sở Tư pháp", 0.7, [
        ("Công nhận hòa giải viên", "x"),
        ("Công nhận tổ trưởng tổ hòa giải", "x"),
        ("Thôi làm hòa giải viên", "x"),
        ("Thanh toán thù lao cho hòa giải viên", "x"),
        ("Công nhận tuyên truyền viên pháp luật", "x"),
        ("Cho thôi làm tuyên truyền viên pháp luật", "x"),
        ("Giải quyết yêu cầu bồi thường tại cơ quan trực tiếp quản lý người "
         "thi hành công vụ gây thiệt hại", "t"),
    ]),
    ("Đất đai", "Sở Nông nghiệp và Môi trường", 0.3, [
        ("Giao đất, cho thuê đất không thông qua đấu giá quyền sử dụng đất "
         "đối với tổ chức", "t"),
        ("Chuyển mục đích sử dụng đất đối với tổ chức", "t"),
        ("Gia hạn sử dụng đất khi hết thời hạn sử dụng đất đối với tổ chức",
         "t"),
        ("Điều chỉnh quyết định thu hồi đất, giao đất, cho thuê đất", "t"),
        ("Đăng ký đất đai lần đầu đối với tổ chức đang sử dụng đất", "t"),
        ("Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn "
         "liền với đất", "t"),
        ("Cấp lại Giấy chứng nhận quyền sử dụng đất do bị mất", "t"),
        ("Đính chính Giấy chứng nhận đã cấp", "t"),
        ("Thu hồi Giấy chứng nhận đã cấp không đúng quy định của pháp luật",
         "t"),
        ("Cung cấp thông tin, dữ liệu đất đai", "t"),
        ("Đăng ký xác lập quyền sử dụng hạn chế thửa đất liền kề", "t"),
        ("Tách thửa hoặc hợp thửa đất", "t"),
        ("Đăng ký thế chấp quyền sử dụng đất, tài sản gắn liền với đất", "t"),
        ("Xóa đăng ký thế chấp quyền sử dụng đất, tài sản gắn liền với đất",
         "t"),
        ("Đăng ký thay đổi nội dung biện pháp bảo đảm đã đăng ký", "t"),
        ("Chuyển đổi quyền sử dụng đất nông nghiệp của hộ gia đình, cá nhân",
         "t"),
        ("Xác định lại diện tích đất ở cho hộ gia đình, cá nhân đã được cấp "
         "Giấy chứng nhận", "t"),
        ("Đăng ký đất đai, tài sản gắn liền với đất, cấp Giấy chứng nhận lần "
         "đầu đối với hộ gia đình, cá nhân", "x"),
        ("Giao đất, cho thuê đất đối với hộ gia đình, cá nhân", "x"),
        ("Chuyển mục đích sử dụng đất đối với hộ gia đình, cá nhân", "x"),
        ("Hòa giải tranh chấp đất đai", "x"),
        ("Giải quyết tranh chấp đất đai thuộc thẩm quyền của Chủ tịch Ủy "
         "ban nhân dân cấp xã", "x"),
        ("Thu hồi đất do người sử dụng đất tự nguyện trả lại đất", "x"),
        ("Gia hạn sử dụng đất nông nghiệp của hộ gia đình, cá nhân", "x"),
        ("Xác nhận tiếp tục sử dụng đất nông nghiệp khi hết thời hạn sử "
         "dụng đất", "x"),
        ("Cấp đổi Giấy chứng nhận quyền sử dụng đất", "x"),
    ]),
    ("Xây dựng", "Sở Xây dựng", 0.35, [
        ("Cấp giấy phép xây dựng mới đối với công trình cấp đặc biệt, cấp I, "
         "cấp II", "t"),
        ("Cấp giấy phép xây dựng sửa chữa, cải tạo công trình", "t"),
        ("Cấp giấy phép di dời công trình", "t"),
        ("Điều chỉnh giấy phép xây dựng", "t"),
        ("Gia hạn giấy phép xây dựng", "t"),
        ("Cấp lại giấy phép xây dựng", "t"),
        ("Thẩm định Báo cáo nghiên cứu khả thi đầu tư xây dựng", "t"),
        ("Thẩm định thiết kế xây dựng triển khai sau thiết kế cơ sở", "t"),
        ("Kiểm tra công tác nghiệm thu hoàn thành công trình", "t"),
        ("Cấp chứng chỉ hành nghề hoạt động xây dựng hạng II, hạng III", "t"),
        ("Cấp chứng chỉ năng lực hoạt động xây dựng hạng II, hạng III", "t"),
        ("Cấp giấy phép hoạt động xây dựng cho nhà thầu nước ngoài", "t"),
        ("Thông báo nhà ở hình thành trong tương lai đủ điều kiện được bán, "
         "thuê mua", "t"),
        ("Cấp chứng chỉ hành nghề môi giới bất động sản", "t"),
        ("Thẩm định nhiệm vụ quy hoạch chi tiết", "t"),
        ("Cung cấp thông tin về quy hoạch xây dựng", "tx"),
        ("Công nhận hạng nhà chung cư", "t"),
        ("Cho thuê nhà ở công vụ", "t"),
        ("Mua bán nhà ở xã hội", "t"),
        ("Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ", "x"),
        ("Cấp giấy phép xây dựng sửa chữa, cải tạo nhà ở riêng lẻ", "x"),
        ("Điều chỉnh, gia hạn giấy phép xây dựng nhà ở riêng lẻ", "x"),
        ("Cấp giấy phép xây dựng có thời hạn đối với nhà ở riêng lẻ", "x"),
        ("Xác nhận đối tượng được hưởng chính sách hỗ trợ nhà ở xã hội", "x"),
    ]),
    ("Giao thông vận tải", "Sở Xây dựng", 0.6, [
        ("Cấp giấy phép kinh doanh vận tải bằng xe ô tô", "t"),
        ("Cấp lại giấy phép kinh doanh vận tải bằng xe ô tô", "t"),
        ("Cấp phù hiệu xe ô tô kinh doanh vận tải", "t"),
        ("Cấp lại phù hiệu xe ô tô kinh doanh vận tải", "t"),
        ("Đăng ký khai thác tuyến vận tải hành khách cố định", "t"),
        ("Công bố đưa bến xe khách vào khai thác", "t"),
        ("Chấp thuận xây dựng công trình thiết yếu trong phạm vi bảo vệ kết "
         "cấu hạ tầng giao thông đường bộ", "t"),
        ("Cấp phép thi công công trình trên đường bộ đang khai thác", "t"),
        ("Cấp giấy phép lưu hành xe quá tải trọng, xe quá khổ giới hạn", "t"),
        ("Chấp thuận đấu nối vào quốc lộ", "t"),
        ("Cấp Giấy chứng nhận đăng ký phương tiện thủy nội địa lần đầu", "t"),
        ("Đăng ký lại phương tiện thủy nội địa", "t"),
        ("Xóa Giấy chứng nhận đăng ký phương tiện thủy nội địa", "t"),
        ("Công bố hoạt động bến thủy nội địa", "t"),
        ("Cấp giấy phép hoạt động bến khách ngang sông", "x"),
        ("Đăng ký phương tiện thủy nội địa không có động cơ", "x"),
        ("Cấp Giấy chứng nhận đăng ký xe máy chuyên dùng lần đầu", "t"),
        ("Sang tên chủ sở hữu xe máy chuyên dùng", "t"),
        ("Cấp giấy phép xe tập lái", "t"),
    ]),
    ("Giáo dục và Đào tạo", "Sở Giáo dục và Đào tạo", 0.6, [
        ("Cho phép trường trung học phổ thông hoạt động giáo dục", "t"),
        ("Thành lập trường trung học phổ thông công lập", "t"),
        ("Cho phép thành lập trường trung học phổ thông tư thục", "t"),
        ("Sáp nhập, chia, tách trường trung học phổ thông", "t"),
        ("Giải thể trường trung học phổ thông", "t"),
        ("Cấp giấy phép tổ chức hoạt động dạy thêm, học thêm ngoài nhà "
         "trường", "t"),
        ("Chuyển trường đối với học sinh trung học phổ thông", "t"),
        ("Xin học lại tại trường khác đối với học sinh trung học", "t"),
        ("Cấp bản sao văn bằng, chứng chỉ từ sổ gốc", "t"),
        ("Chỉnh sửa nội dung văn bằng, chứng chỉ", "t"),
        ("Công nhận văn bằng tốt nghiệp do cơ sở giáo dục nước ngoài cấp",
         "t"),
        ("Phúc khảo bài thi tốt nghiệp trung học phổ thông", "t"),
        ("Đăng ký dự thi tốt nghiệp trung học phổ thông", "t"),
        ("Thành lập trung tâm ngoại ngữ, tin học", "t"),
        ("Cho phép trung tâm ngoại ngữ, tin học hoạt động giáo dục", "t"),
        ("Cấp phép hoạt động giáo dục kỹ năng sống", "t"),
        ("Công nhận trường trung học đạt chuẩn quốc gia", "t"),
        ("Cấp học bổng và hỗ trợ kinh phí mua phương tiện, đồ dùng học tập "
         "cho người khuyết tật", "t"),
        ("Cho phép trường mầm non hoạt động giáo dục", "x"),
        ("Thành lập trường mầm non công lập", "x"),
        ("Cho phép thành lập nhóm trẻ, lớp mẫu giáo độc lập", "x"),
        ("Thành lập trường tiểu học công lập", "x"),
        ("Cho phép trường tiểu học hoạt động giáo dục", "x"),
        ("Thành lập trường trung học cơ sở công lập", "x"),
        ("Chuyển trường đối với học sinh trung học cơ sở", "x"),
        ("Xét, duyệt chính sách hỗ trợ đối với học sinh bán trú", "x"),
        ("Hỗ trợ ăn trưa đối với trẻ em mẫu giáo", "x"),
        ("Miễn, giảm học phí và hỗ trợ chi phí học tập", "x"),
        ("Công nhận xã đạt chuẩn phổ cập giáo dục, xóa mù chữ", "x"),
    ]),
    ("Y tế", "Sở Y tế", 0.55, [
        ("Cấp giấy phép hành nghề khám bệnh, chữa bệnh", "t"),
        ("Cấp lại giấy phép hành nghề khám bệnh, chữa bệnh", "t"),
        ("Gia hạn giấy phép hành nghề khám bệnh, chữa bệnh", "t"),
        ("Điều chỉnh giấy phép hành nghề khám bệnh, chữa bệnh", "t"),
        ("Cấp giấy phép hoạt động đối với phòng khám đa khoa", "t"),
        ("Cấp giấy phép hoạt động đối với phòng khám chuyên khoa", "t"),
        ("Cấp giấy phép hoạt động đối với cơ sở chẩn đoán hình ảnh", "t"),
        ("Cấp chứng chỉ hành nghề dược", "t"),
        ("Cấp lại chứng chỉ hành nghề dược", "t"),
        ("Cấp Giấy chứng nhận đủ điều kiện kinh doanh dược đối với nhà "
         "thuốc", "t"),
        ("Cấp Giấy chứng nhận đủ điều kiện kinh doanh dược đối với quầy "
         "thuốc", "t"),
        ("Đánh giá đáp ứng Thực hành tốt cơ sở bán lẻ thuốc", "t"),
        ("Cấp giấy xác nhận nội dung quảng cáo mỹ phẩm", "t"),
        ("Tiếp nhận phiếu công bố sản phẩm mỹ phẩm", "t"),
        ("Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm đối với "
         "cơ sở kinh doanh dịch vụ ăn uống", "t"),
        ("Công bố cơ sở đủ điều kiện tiêm chủng", "t"),
        ("Công bố cơ sở đủ điều kiện thực hiện khám sức khỏe", "t"),
        ("Cấp giấy phép hoạt động đối với trạm y tế cấp xã", "t"),
        ("Cấp giấy chứng sinh cho trường hợp trẻ sinh ra ngoài cơ sở khám "
         "bệnh, chữa bệnh", "x"),
    ]),
    ("Bảo trợ xã hội", "Sở Y tế", 0.5, [
        ("Trợ cấp xã hội hằng tháng đối với đối tượng bảo trợ xã hội", "x"),
        ("Điều chỉnh, thôi hưởng trợ cấp xã hội hằng tháng", "x"),
        ("Hỗ trợ kinh phí chăm sóc, nuôi dưỡng hằng tháng", "x"),
        ("Xác định, xác định lại mức độ khuyết tật và cấp Giấy xác nhận "
         "khuyết tật", "x"),
        ("Đổi, cấp lại Giấy xác nhận khuyết tật", "x"),
        ("Trợ giúp xã hội khẩn cấp về hỗ trợ làm nhà ở, sửa chữa nhà ở", "x"),
        ("Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội", "x"),
        ("Tiếp nhận đối tượng bảo trợ xã hội có hoàn cảnh đặc biệt khó khăn "
         "vào cơ sở trợ giúp xã hội", "t"),
        ("Thành lập cơ sở trợ giúp xã hội ngoài công lập", "t"),
        ("Cấp giấy phép hoạt động đối với cơ sở trợ giúp xã hội", "t"),
        ("Đăng ký nhận chăm sóc thay thế cho trẻ em", "x"),
        ("Áp dụng các biện pháp can thiệp khẩn cấp hoặc tạm thời cách ly "
         "trẻ em khỏi môi trường hoặc người gây tổn hại cho trẻ em", "x"),
    ]),
    ("Lao động", "Sở Nội vụ", 0.6, [
        ("Cấp giấy phép lao động cho người lao động nước ngoài làm việc tại "
         "Việt Nam", "t"),
        ("Cấp lại giấy phép lao động cho người lao động nước ngoài", "t"),
        ("Gia hạn giấy phép lao động cho người lao động nước ngoài", "t"),
        ("Xác nhận người lao động nước ngoài không thuộc diện cấp giấy phép "
         "lao động", "t"),
        ("Báo cáo giải trình nhu cầu sử dụng người lao động nước ngoài", "t"),
        ("Đăng ký nội quy lao động của doanh nghiệp", "t"),
        ("Gửi thỏa ước lao động tập thể", "t"),
        ("Đăng ký hợp đồng nhận lao động thực tập ở nước ngoài", "t"),
        ("Cấp giấy phép hoạt động cho thuê lại lao động", "t"),
        ("Gia hạn giấy phép hoạt động cho thuê lại lao động", "t"),
        ("Giải quyết hưởng trợ cấp thất nghiệp", "t"),
        ("Tạm dừng hưởng trợ cấp thất nghiệp", "t"),
        ("Chuyển nơi hưởng trợ cấp thất nghiệp", "t"),
        ("Hỗ trợ học nghề đối với người đang hưởng trợ cấp thất nghiệp", "t"),
        ("Cấp giấy phép hoạt động dịch vụ việc làm của doanh nghiệp", "t"),
        ("Thành lập trung tâm giáo dục nghề nghiệp tư thục", "t"),
        ("Cấp giấy chứng nhận đăng ký hoạt động giáo dục nghề nghiệp", "t"),
        ("Khai báo khi đưa vào sử dụng các loại máy, thiết bị có yêu cầu "
         "nghiêm ngặt về an toàn lao động", "t"),
        ("Xác nhận hộ gia đình làm nông nghiệp có mức sống trung bình", "x"),
        ("Công nhận hộ nghèo, hộ cận nghèo phát sinh trong năm", "x"),
        ("Công nhận hộ thoát nghèo, hộ thoát cận nghèo trong năm", "x"),
    ]),
    ("Người có công", "Sở Nội vụ", 0.4, [
        ("Công nhận và giải quyết chế độ ưu đãi người hoạt động cách mạng",
         "t"),
        ("Giải quyết chế độ trợ cấp thờ cúng liệt sĩ", "x"),
        ("Cấp bổ sung hoặc cấp lại giấy chứng nhận người có công", "t"),
        ("Giải quyết chế độ ưu đãi đối với thân nhân liệt sĩ", "t"),
        ("Di chuyển hồ sơ người có công với cách mạng", "t"),
        ("Hỗ trợ người có công với cách mạng cải thiện nhà ở", "x"),
        ("Giải quyết trợ cấp mai táng phí đối với người có công với cách "
         "mạng", "x"),
        ("Cấp trích lục hoặc sao hồ sơ người có công", "t"),
        ("Công nhận thương binh, người hưởng chính sách như thương binh", "t"),
        ("Giám định lại thương tật do vết thương cũ tái phát", "t"),
        ("Hưởng trợ cấp khi người có công đang hưởng trợ cấp ưu đãi từ trần",
         "x"),
        ("Đề nghị thăm viếng mộ liệt sĩ", "x"),
        ("Đề nghị di chuyển hài cốt liệt sĩ", "x"),
    ]),
    ("Nội vụ", "Sở Nội vụ", 0.5, [
        ("Tặng Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh", "t"),
        ("Tặng danh hiệu Chiến sĩ thi đua cấp tỉnh", "t"),
        ("Tặng Cờ thi đua của Ủy ban nhân dân tỉnh", "t"),
        ("Tặng danh hiệu Tập thể lao động xuất sắc", "t"),
        ("Tặng Giấy khen của Chủ tịch Ủy ban nhân dân cấp xã", "x"),
        ("Tặng danh hiệu Lao động tiên tiến", "x"),
        ("Thành lập hội có phạm vi hoạt động trong tỉnh", "t"),
        ("Phê duyệt điều lệ hội", "t"),
        ("Chia, tách, sáp nhập, hợp nhất hội", "t"),
        ("Tự giải thể hội", "t"),
        ("Cấp giấy phép thành lập và công nhận điều lệ quỹ", "t"),
        ("Thi tuyển công chức", "t"),
        ("Xét tuyển viên chức", "t"),
        ("Thẩm định việc thành lập đơn vị sự nghiệp công lập", "t"),
    ]),
    ("Tôn giáo", "Sở Dân tộc và Tôn giáo", 0.5, [
        ("Đăng ký sinh hoạt tôn giáo tập trung", "x"),
        ("Thông báo danh mục hoạt động tôn giáo đối với tổ chức có địa bàn "
         "hoạt động tôn giáo ở một xã", "x"),
        ("Đăng ký người được bổ nhiệm, bầu cử, suy cử làm chức việc", "t"),
        ("Đề nghị tổ chức cuộc lễ ngoài cơ sở tôn giáo", "t"),
        ("Đề nghị giảng đạo ngoài địa bàn phụ trách", "t"),
        ("Đăng ký thuyên chuyển chức sắc, chức việc, nhà tu hành", "t"),
        ("Thông báo tổ chức quyên góp ngoài địa bàn một xã", "x"),
    ]),
    ("Kế hoạch và Đầu tư", "Sở Tài chính", 0.75, [
        ("Đăng ký thành lập doanh nghiệp tư nhân", "t"),
        ("Đăng ký thành lập công ty trách nhiệm hữu hạn một thành viên", "t"),
        ("Đăng ký thành lập công ty trách nhiệm hữu hạn hai thành viên trở "
         "lên", "t"),
        ("Đăng ký thành lập công ty cổ phần", "t"),
        ("Đăng ký thành lập công ty hợp danh", "t"),
        ("Đăng ký thay đổi địa chỉ trụ sở chính của doanh nghiệp", "t"),
        ("Đăng ký thay đổi tên doanh nghiệp", "t"),
        ("Đăng ký thay đổi người đại diện theo pháp luật của công ty", "t"),
        ("Đăng ký thay đổi vốn điều lệ, tỷ lệ vốn góp", "t"),
        ("Thông báo thay đổi ngành, nghề kinh doanh", "t"),
        ("Đăng ký hoạt động chi nhánh, văn phòng đại diện, địa điểm kinh "
         "doanh", "t"),
        ("Thông báo tạm ngừng kinh doanh, tiếp tục kinh doanh trước thời hạn "
         "đã thông báo", "t"),
        ("Giải thể doanh nghiệp", "t"),
        ("Chuyển đổi doanh nghiệp tư nhân thành công ty trách nhiệm hữu hạn",
         "t"),
        ("Cấp lại Giấy chứng nhận đăng ký doanh nghiệp", "t"),
        ("Hiệu đính thông tin đăng ký doanh nghiệp", "t"),
        ("Chấp thuận chủ trương đầu tư của Ủy ban nhân dân tỉnh", "t"),
        ("Cấp Giấy chứng nhận đăng ký đầu tư đối với dự án không thuộc diện "
         "chấp thuận chủ trương đầu tư", "t"),
        ("Điều chỉnh Giấy chứng nhận đăng ký đầu tư", "t"),
        ("Chuyển nhượng dự án đầu tư", "t"),
        ("Giãn tiến độ thực hiện dự án đầu tư", "t"),
        ("Chấm dứt hoạt động dự án đầu tư", "t"),
        ("Đăng ký góp vốn, mua cổ phần, mua phần vốn góp của nhà đầu tư "
         "nước ngoài", "t"),
        ("Đăng ký thành lập hộ kinh doanh", "x"),
        ("Đăng ký thay đổi nội dung đăng ký hộ kinh doanh", "x"),
        ("Tạm ngừng kinh doanh, tiếp tục kinh doanh trước thời hạn đã thông "
         "báo của hộ kinh doanh", "x"),
        ("Chấm dứt hoạt động hộ kinh doanh", "x"),
        ("Cấp lại Giấy chứng nhận đăng ký hộ kinh doanh", "x"),
        ("Đăng ký thành lập hợp tác xã", "t"),
        ("Đăng ký thay đổi nội dung đăng ký hợp tác xã", "t"),
        ("Giải thể tự nguyện hợp tác xã", "t"),
    ]),
    ("Tài chính", "Sở Tài chính", 0.5, [
        ("Đăng ký mã số đơn vị có quan hệ với ngân sách", "t"),
        ("Quyết định giá thuộc thẩm quyền của Ủy ban nhân dân tỉnh", "t"),
        ("Xác lập quyền sở hữu toàn dân đối với tài sản", "t"),
        ("Thanh lý tài sản công", "t"),
    ]),
    ("Tài nguyên và Môi trường", "Sở Nông nghiệp và Môi trường", 0.45, [
        ("Cấp giấy phép môi trường", "t"),
        ("Cấp điều chỉnh giấy phép môi trường", "t"),
        ("Cấp lại giấy phép môi trường", "t"),
        ("Thẩm định báo cáo đánh giá tác động môi trường", "t"),
        ("Đăng ký môi trường", "x"),
        ("Vận hành thử nghiệm các công trình xử lý chất thải", "t"),
        ("Cấp giấy phép khai thác nước dưới đất", "t"),
        ("Cấp giấy phép khai thác, sử dụng nước mặt", "t"),
        ("Gia hạn, điều chỉnh giấy phép tài nguyên nước", "t"),
        ("Cấp giấy phép thăm dò nước dưới đất", "t"),
        ("Cấp giấy phép hành nghề khoan nước dưới đất", "t"),
        ("Cấp giấy phép thăm dò khoáng sản", "t"),
        ("Cấp giấy phép khai thác khoáng sản", "t"),
        ("Đăng ký khu vực, công suất, khối lượng, phương pháp, thiết bị và "
         "kế hoạch khai thác khoáng sản làm vật liệu xây dựng thông thường",
         "t"),
        ("Đóng cửa mỏ khoáng sản", "t"),
        ("Cung cấp thông tin, dữ liệu môi trường", "t"),
        ("Chấp thuận phương án cải tạo, phục hồi môi trường", "t"),
        ("Lấy ý kiến cộng đồng dân cư về dự án có tác động môi trường", "x"),
        ("Tiếp nhận, giải quyết phản ánh về ô nhiễm môi trường", "x"),
        ("Cấp giấy phép xả nước thải vào công trình thủy lợi", "t"),
        ("Cấp giấy phép hoạt động đo đạc và bản đồ hạng II", "t"),
    ]),
    ("Nông nghiệp", "Sở Nông nghiệp và Môi trường", 0.6, [
        ("Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm nông, "
         "lâm, thủy sản", "t"),
        ("Cấp lại Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm nông, "
         "lâm, thủy sản", "t"),
        ("Cấp Giấy chứng nhận đủ điều kiện buôn bán thuốc bảo vệ thực vật",
         "t"),
        ("Cấp Giấy chứng nhận đủ điều kiện buôn bán phân bón", "t"),
        ("Cấp giấy chứng nhận kiểm dịch thực vật nội địa", "t"),
        ("Cấp Giấy chứng nhận đủ điều kiện chăn nuôi trang trại quy mô lớn",
         "t"),
        ("Kê khai hoạt động chăn nuôi", "x"),
        ("Cấp chứng chỉ hành nghề thú y", "t"),
        ("Cấp Giấy chứng nhận cơ sở an toàn dịch bệnh động vật", "t"),
        ("Cấp giấy chứng nhận kiểm dịch động vật, sản phẩm động vật vận "
         "chuyển ra khỏi địa bàn cấp tỉnh", "t"),
        ("Cấp Giấy chứng nhận đủ điều kiện buôn bán thuốc thú y", "t"),
        ("Cấp giấy xác nhận đăng ký nuôi trồng thủy sản", "x"),
        ("Cấp giấy phép cho các hoạt động trong phạm vi bảo vệ công trình "
         "thủy lợi", "t"),
        ("Cấp phép cho các hoạt động liên quan đến đê điều", "t"),
        ("Hỗ trợ đầu tư xây dựng phát triển thủy lợi nhỏ, thủy lợi nội đồng",
         "x"),
        ("Phê duyệt thiết kế, dự toán công trình lâm sinh", "t"),
        ("Xác nhận bảng kê lâm sản", "x"),
        ("Công nhận làng nghề, làng nghề truyền thống", "t"),
        ("Hỗ trợ khôi phục sản xuất vùng bị thiệt hại do thiên tai, dịch "
         "bệnh", "x"),
        ("Công nhận xã đạt chuẩn nông thôn mới", "t"),
        ("Đánh giá, phân hạng sản phẩm thuộc Chương trình mỗi xã một sản "
         "phẩm", "t"),
        ("Chuyển đổi cơ cấu cây trồng trên đất trồng lúa", "x"),
    ]),
    ("Công thương", "Sở Công Thương", 0.75, [
        ("Cấp Giấy phép bán lẻ sản phẩm rượu", "x"),
        ("Cấp Giấy phép bán buôn sản phẩm rượu", "t"),
        ("Cấp Giấy phép sản xuất rượu thủ công nhằm mục đích kinh doanh",
         "x"),
        ("Cấp Giấy phép bán lẻ sản phẩm thuốc lá", "x"),
        ("Cấp Giấy chứng nhận đủ điều kiện cửa hàng bán lẻ xăng dầu", "t"),
        ("Cấp lại Giấy chứng nhận đủ điều kiện cửa hàng bán lẻ xăng dầu", "t"),
        ("Cấp Giấy chứng nhận đủ điều kiện thương nhân kinh doanh khí", "t"),
        ("Cấp giấy phép hoạt động điện lực", "t"),
        ("Cấp Giấy chứng nhận đủ điều kiện an toàn thực phẩm đối với cơ sở "
         "sản xuất, kinh doanh thực phẩm do ngành Công Thương quản lý", "t"),
        ("Đăng ký thực hiện khuyến mại", "t"),
        ("Thông báo thực hiện khuyến mại", "t"),
        ("Cấp Giấy phép kinh doanh cho tổ chức kinh tế có vốn đầu tư nước "
         "ngoài", "t"),
        ("Cấp Giấy phép thành lập Văn phòng đại diện của thương nhân nước "
         "ngoài", "t"),
        ("Cấp Giấy chứng nhận đủ điều kiện sản xuất hóa chất sản xuất, kinh "
         "doanh có điều kiện", "t"),
        ("Cấp Giấy xác nhận ưu đãi dự án sản xuất sản phẩm công nghiệp hỗ "
         "trợ", "t"),
        ("Cấp giấy phép sử dụng vật liệu nổ công nghiệp", "t"),
        ("Đăng ký hoạt động bán hàng đa cấp tại địa phương", "t"),
        ("Cấp Giấy chứng nhận huấn luyện kỹ thuật an toàn vật liệu nổ công "
         "nghiệp", "t"),
        ("Hỗ trợ chương trình khuyến công địa phương", "t"),
        ("Cấp Giấy phép mua bán nguyên liệu thuốc lá", "t"),
    ]),
    ("Văn hóa, Thể thao và Du lịch", "Sở Văn hóa, Thể thao và Du lịch", 0.6, [
        ("Cấp giấy phép kinh doanh dịch vụ lữ hành nội địa", "t"),
        ("Cấp đổi giấy phép kinh doanh dịch vụ lữ hành nội địa", "t"),
        ("Cấp thẻ hướng dẫn viên du lịch nội địa", "t"),
        ("Cấp đổi thẻ hướng dẫn viên du lịch", "t"),
        ("Công nhận hạng cơ sở lưu trú du lịch 1 sao, 2 sao", "t"),
        ("Công nhận điểm du lịch", "t"),
        ("Cấp Giấy chứng nhận đủ điều kiện kinh doanh hoạt động thể thao",
         "t"),
        ("Đăng ký tổ chức lễ hội cấp tỉnh", "t"),
        ("Thông báo tổ chức lễ hội", "x"),
        ("Tổ chức cuộc thi, liên hoan trên địa bàn quản lý", "t"),
        ("Cấp giấy phép kinh doanh dịch vụ karaoke", "x"),
        ("Cấp giấy phép kinh doanh dịch vụ vũ trường", "t"),
        ("Thẩm định dự án sửa chữa, cải tạo, phục hồi di tích cấp tỉnh", "t"),
        ("Xếp hạng di tích cấp tỉnh", "t"),
        ("Cấp giấy phép khai quật khẩn cấp", "t"),
        ("Đăng ký di vật, cổ vật", "t"),
        ("Xét tặng danh hiệu \"Gia đình văn hóa\" hằng năm", "x"),
        ("Xét tặng danh hiệu \"Thôn, tổ dân phố văn hóa\"", "x"),
        ("Công nhận câu lạc bộ thể thao cơ sở", "x"),
        ("Thông báo thành lập thư viện cộng đồng", "x"),
    ]),
    ("Thông tin và Truyền thông", "Sở Khoa học và Công nghệ", 0.8, [
        ("Cấp giấy phép xuất bản bản tin", "t"),
        ("Cấp giấy phép hoạt động in xuất bản phẩm", "t"),
        ("Đăng ký hoạt động cơ sở in", "t"),
        ("Cấp giấy phép xuất bản tài liệu không kinh doanh", "t"),
        ("Cấp giấy phép nhập khẩu xuất bản phẩm không kinh doanh", "t"),
        ("Cấp giấy phép thiết lập trang thông tin điện tử tổng hợp", "t"),
        ("Cấp giấy chứng nhận đủ điều kiện hoạt động điểm cung cấp dịch vụ "
         "trò chơi điện tử công cộng", "x"),
        ("Cấp giấy phép tổ chức triển lãm, hội chợ xuất bản phẩm", "t"),
        ("Khai báo hoạt động cơ sở dịch vụ photocopy", "x"),
    ]),
    ("Khoa học và Công nghệ", "Sở Khoa học và Công nghệ", 0.7, [
        ("Đăng ký kết quả thực hiện nhiệm vụ khoa học và công nghệ", "t"),
        ("Cấp Giấy chứng nhận doanh nghiệp khoa học và công nghệ", "t"),
        ("Cấp Giấy chứng nhận đăng ký hoạt động khoa học và công nghệ", "t"),
        ("Đăng ký hợp đồng chuyển giao công nghệ", "t"),
        ("Cấp giấy phép tiến hành công việc bức xạ sử dụng thiết bị X-quang "
         "chẩn đoán trong y tế", "t"),
        ("Cấp chứng chỉ nhân viên bức xạ", "t"),
        ("Đăng ký công bố hợp chuẩn", "t"),
        ("Kiểm tra nhà nước về chất lượng hàng hóa nhập khẩu", "t"),
        ("Chứng nhận chuẩn đo lường để kiểm định phương tiện đo", "t"),
    ]),
    ("Thanh tra", "Thanh tra tỉnh", 0.3, [
        ("Giải quyết khiếu nại lần đầu tại cấp tỉnh", "t"),
        ("Giải quyết khiếu nại lần hai tại cấp tỉnh", "t"),
        ("Giải quyết tố cáo tại cấp tỉnh", "t"),
        ("Tiếp công dân tại cấp tỉnh", "t"),
        ("Xử lý đơn tại cấp tỉnh", "t"),
        ("Giải quyết khiếu nại lần đầu tại cấp xã", "x"),
        ("Giải quyết tố cáo tại cấp xã", "x"),
        ("Tiếp công dân tại cấp xã", "x"),
        ("Xử lý đơn tại cấp xã", "x"),
        ("Kê khai tài sản, thu nhập", "t"),
    ]),
]

# Documents every field may ask for, and per field.
COMMON_DOCUMENTS = [
    "Bản sao giấy tờ tùy thân của người nộp hồ sơ",
    "Giấy ủy quyền (trường hợp nộp thay)",
    "Bản sao các giấy tờ chứng minh nội dung đề nghị",
]
FIELD_DOCUMENTS = {
    "Hộ tịch": ["Giấy chứng sinh (bản chính)",
                "Giấy tờ chứng minh nơi cư trú",
                "Trích lục hộ tịch đã cấp (nếu có)"],
    "Nuôi con nuôi": ["Giấy khám sức khỏe của người nhận con nuôi",
                      "Phiếu lý lịch tư pháp của người nhận con nuôi",
                      "Văn bản xác nhận hoàn cảnh gia đình"],
    "Chứng thực": ["Bản chính giấy tờ, văn bản cần chứng thực",
                   "Dự thảo hợp đồng, giao dịch"],
    "Lý lịch tư pháp": ["Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp",
                        "Bản chụp Căn cước công dân"],
    "Đất đai": ["Giấy chứng nhận quyền sử dụng đất đã cấp (bản gốc)",
                "Trích đo bản đồ địa chính thửa đất",
                "Hợp đồng, văn bản về chuyển quyền sử dụng đất",
                "Chứng từ thực hiện nghĩa vụ tài chính"],
    "Xây dựng": ["Bản vẽ thiết kế xây dựng",
                 "Giấy tờ chứng minh quyền sử dụng đất",
                 "Báo cáo kết quả thẩm định thiết kế",
                 "Cam kết bảo đảm an toàn đối với công trình liền kề"],
    "Giao thông vận tải": ["Giấy chứng nhận đăng ký phương tiện",
                           "Giấy chứng nhận an toàn kỹ thuật và bảo vệ môi "
                           "trường",
                           "Phương án kinh doanh vận tải"],
    "Giáo dục và Đào tạo": ["Đề án thành lập hoặc hoạt động",
                            "Học bạ (bản sao)",
                            "Danh sách cán bộ quản lý, giáo viên",
                            "Văn bằng, chứng chỉ đã cấp (bản sao)"],
    "Y tế": ["Văn bằng chuyên môn (bản sao có chứng thực)",
             "Giấy xác nhận quá trình thực hành",
             "Giấy chứng nhận đủ sức khỏe hành nghề",
             "Danh sách người hành nghề"],
    "Bảo trợ xã hội": ["Tờ khai đề nghị trợ giúp xã hội",
                       "Giấy xác nhận khuyết tật (nếu có)",
                       "Biên bản họp Hội đồng xét duyệt cấp xã"],
    "Lao động": ["Phiếu lý lịch tư pháp của người lao động nước ngoài",
                 "Giấy chứng nhận sức khỏe",
                 "Hợp đồng lao động (bản sao)",
                 "Sổ bảo hiểm xã hội"],
    "Người có công": ["Bản khai cá nhân theo mẫu",
                      "Giấy chứng nhận người có công (bản sao)",
                      "Biên bản giám định y khoa"],
    "Nội vụ": ["Tờ trình đề nghị", "Báo cáo thành tích",
               "Dự thảo điều lệ", "Biên bản họp"],
    "Tôn giáo": ["Văn bản đề nghị của tổ chức tôn giáo",
                 "Danh sách người tham gia sinh hoạt",
                 "Văn bản chấp thuận của người đại diện cơ sở"],
    "Kế hoạch và Đầu tư": ["Giấy đề nghị đăng ký doanh nghiệp",
                           "Điều lệ công ty",
                           "Danh sách thành viên, cổ đông sáng lập",
                           "Đề xuất dự án đầu tư",
                           "Nghị quyết, quyết định của chủ sở hữu"],
    "Tài chính": ["Văn bản đề nghị của đơn vị", "Hồ sơ tài sản"],
    "Tài nguyên và Môi trường": ["Báo cáo đề xuất cấp giấy phép môi trường",
                                 "Báo cáo đánh giá tác động môi trường",
                                 "Sơ đồ khu vực đề nghị cấp phép",
                                 "Kết quả phân tích chất lượng nguồn nước"],
    "Nông nghiệp": ["Bản thuyết minh điều kiện cơ sở vật chất",
                    "Giấy xác nhận kiến thức an toàn thực phẩm",
                    "Kết quả xét nghiệm mẫu"],
    "Công thương": ["Bản thuyết minh cơ sở vật chất, kỹ thuật",
                    "Hợp đồng mua bán với thương nhân cung cấp",
                    "Giấy chứng nhận đủ điều kiện phòng cháy, chữa cháy"],
    "Văn hóa, Thể thao và Du lịch": ["Bản kê khai cơ sở vật chất",
                                     "Chương trình, kịch bản hoạt động",
                                     "Giấy chứng nhận ký quỹ"],
    "Thông tin và Truyền thông": ["Đề án hoạt động",
                                  "Mẫu trình bày", "Danh mục xuất bản phẩm"],
    "Khoa học và Công nghệ": ["Báo cáo kết quả thực hiện nhiệm vụ",
                              "Hợp đồng chuyển giao công nghệ",
                              "Hồ sơ kỹ thuật thiết bị"],
    "Thanh tra": ["Đơn khiếu nại hoặc đơn tố cáo",
                  "Tài liệu, chứng cứ kèm theo"],
}
DEFAULT_FIELD_DOCUMENTS = ["Văn bản đề nghị theo mẫu",
                           "Giấy tờ chứng minh đủ điều kiện"]

# The law each field rests on (names of real Vietnamese laws), then a
# made-up decree reference.
FIELD_LAWS = {
    "Hộ tịch": ["Luật Hộ tịch 2014"],
    "Nuôi con nuôi": ["Luật Nuôi con nuôi 2010"],
    "Chứng thực": ["Luật Công chứng 2024"],
    "Lý lịch tư pháp": ["Luật Lý lịch tư pháp 2009"],
    "Công chứng": ["Luật Công chứng 2024"],
    "Luật sư": ["Luật Luật sư 2006, sửa đổi, bổ sung năm 2012"],
    "Trợ giúp pháp lý": ["Luật Trợ giúp pháp lý 2017"],
    "Đấu giá tài sản": ["Luật Đấu giá tài sản 2016, sửa đổi, bổ sung năm "
                        "2024"],
    "Tư pháp": ["Luật Hòa giải ở cơ sở 2013",
                "Luật Trách nhiệm bồi thường của Nhà nước 2017"],
    "Đất đai": ["Luật Đất đai 2024"],
    "Xây dựng": ["Luật Xây dựng 2014, sửa đổi, bổ sung năm 2020",
                 "Luật Nhà ở 2023"],
    "Giao thông vận tải": ["Luật Đường bộ 2024",
                           "Luật Giao thông đường thủy nội địa 2004"],
    "Giáo dục và Đào tạo": ["Luật Giáo dục 2019"],
    "Y tế": ["Luật Khám bệnh, chữa bệnh 2023", "Luật Dược 2016"],
    "Bảo trợ xã hội": ["Luật Người khuyết tật 2010", "Luật Trẻ em 2016"],
    "Lao động": ["Bộ luật Lao động 2019", "Luật Việc làm 2013"],
    "Người có công": ["Pháp lệnh Ưu đãi người có công với cách mạng 2020"],
    "Nội vụ": ["Luật Thi đua, khen thưởng 2022", "Luật Cán bộ, công chức 2008"],
    "Tôn giáo": ["Luật Tín ngưỡng, tôn giáo 2016"],
    "Kế hoạch và Đầu tư": ["Luật Doanh nghiệp 2020", "Luật Đầu tư 2020",
                           "Luật Hợp tác xã 2023"],
    "Tài chính": ["Luật Quản lý, sử dụng tài sản công 2017", "Luật Giá 2023"],
    "Tài nguyên và Môi trường": ["Luật Bảo vệ môi trường 2020",
                                 "Luật Tài nguyên nước 2023",
                                 "Luật Khoáng sản 2010"],
    "Nông nghiệp": ["Luật Trồng trọt 2018", "Luật Chăn nuôi 2018",
                    "Luật Thú y 2015", "Luật Thủy lợi 2017"],
    "Công thương": ["Luật Thương mại 2005", "Luật Điện lực 2024"],
    "Văn hóa, Thể thao và Du lịch": ["Luật Du lịch 2017",
                                     "Luật Di sản văn hóa 2024",
                                     "Luật Thể dục, thể thao 2006"],
    "Thông tin và Truyền thông": ["Luật Xuất bản 2012", "Luật Báo chí 2016"],
    "Khoa học và Công nghệ": ["Luật Khoa học và Công nghệ 2013",
                              "Luật Năng lượng nguyên tử 2008"],
    "Thanh tra": ["Luật Khiếu nại 2011", "Luật Tố cáo 2018",
                  "Luật Tiếp công dân 2013"],
}

TIMES_XA = ["Trong ngày làm việc", "01 ngày làm việc", "03 ngày làm việc",
            "05 ngày làm việc", "07 ngày làm việc", "10 ngày làm việc"]
TIMES_TINH = ["03 ngày làm việc", "05 ngày làm việc", "07 ngày làm việc",
              "10 ngày làm việc", "15 ngày làm việc", "20 ngày làm việc",
              "30 ngày", "45 ngày"]
FEES = ["Miễn phí", "Không", "Miễn phí", "10.000 đồng", "20.000 đồng",
        "50.000 đồng", "100.000 đồng/hồ sơ", "200.000 đồng/giấy phép",
        "500.000 đồng/hồ sơ", "1.000.000 đồng",
        "Lệ phí: 8.000 đồng/bản, phí: 2.000 đồng/trang từ trang thứ ba",
        "Theo quy định của Hội đồng nhân dân tỉnh"]

# Free by law or by nature.
FREE_FIELDS = {"Bảo trợ xã hội", "Người có công", "Thanh tra", "Tôn giáo",
               "Trợ giúp pháp lý", "Nội vụ"}
FREE_NAMES = {"Đăng ký khai sinh", "Đăng ký khai tử", "Đăng ký khai sinh lưu "
              "động", "Đăng ký khai tử lưu động"}


def lower_first(text):
    return text[0].lower() + text[1:]


def application_form(name):
    """The first required document: the form that asks for this procedure."""
    if name.startswith("Đăng ký"):
        return "Tờ khai " + lower_first(name) + " (theo mẫu)"
    if name.startswith(("Tặng", "Xét tặng", "Công nhận")):
        return "Tờ trình đề nghị " + lower_first(name)
    if name.startswith(("Giải quyết khiếu nại", "Giải quyết tố cáo")):
        return "Đơn theo mẫu"
    if name.startswith("Thông báo"):
        return "Văn bản " + lower_first(name) + " (theo mẫu)"
    return "Đơn đề nghị " + lower_first(name) + " (theo mẫu)"


def make_catalogue():
    rng = random.Random(SEED)
    entries = []
    for field, agency, fully_share, names in FIELDS:
        for name, levels in names:
            for level in levels:
                entries.append((field, agency, fully_share, name, level))
    if len(entries) != TOTAL:
        sys.exit("make_sample_catalogue: %d procedures, expected %d; edit "
                 "FIELDS" % (len(entries), TOTAL))

    # One made-up decree and one made-up provincial decision per field (a
    # decision publishes the list of one field).
    references = {}
    for field, _, _, _ in FIELDS:
        references[field] = [
            "Nghị định số %d/%d/NĐ-CP hướng dẫn thi hành"
            % (rng.randrange(10, 200), rng.choice([2021, 2023, 2024, 2025])),
            "Quyết định số %d/QĐ-UBND năm 2025 của Ủy ban nhân dân tỉnh %s "
            "công bố danh mục thủ tục hành chính lĩnh vực %s"
            % (rng.randrange(1000, 3000), PROVINCE, field),
        ]

    # Distinct made-up numbers per group; 1.001193 is reserved for the
    # running example.
    taken = {(1, 1193)}
    procedures = []
    for field, agency, fully_share, name, level in entries:
        if name == "Đăng ký khai sinh":
            group, number = 1, 1193
        else:
            while True:
                group = rng.choice([1, 1, 1, 2, 2, 3])
                number = rng.randrange(100, 13000 if group == 1 else 3000)
                if (group, number) not in taken:
                    taken.add((group, number))
                    break
        code = "%d.%06d.000.00.00.%s" % (group, number, SUFFIX)
        provincial = level == "t"
        if provincial:
            agency_name = (("Ủy ban nhân dân tỉnh " + PROVINCE)
                           if rng.random() < 0.1 else
                           "%s tỉnh %s" % (agency, PROVINCE))
        else:
            agency_name = "Ủy ban nhân dân cấp xã"
        documents = [application_form(name)]
        pool = FIELD_DOCUMENTS.get(field, DEFAULT_FIELD_DOCUMENTS)
        documents += rng.sample(pool, rng.randint(1, min(3, len(pool))))
        if rng.random() < 0.6:
            documents.append(rng.choice(COMMON_DOCUMENTS))
        laws = FIELD_LAWS[field]
        basis = rng.sample(laws, rng.randint(1, len(laws)))
        basis += references[field]
        procedures.append({
            "code": code,
            "name": name,
            "field": field,
            "authority_level": TINH if provincial else XA,
            "level": FULLY if rng.random() < fully_share else PARTLY,
            "implementing_agency": agency_name,
            "processing_time": rng.choice(TIMES_TINH if provincial
                                          else TIMES_XA),
            "fees": ("Miễn phí" if field in FREE_FIELDS or name in FREE_NAMES
                     else rng.choice(FEES)),
            "required_documents": documents,
            "legal_basis": basis,
        })
    procedures.sort(key=lambda p: (p["field"], p["code"]))
    for p in procedures:
        for entry in p["required_documents"] + p["legal_basis"]:
            assert ";" not in entry, entry  # the CSV list separator
    return procedures


COLUMNS = ["code", "name", "field", "authority_level", "level",
           "implementing_agency", "processing_time", "fees",
           "required_documents", "legal_basis"]


def write(out_dir, procedures):
    with open(os.path.join(out_dir, "catalogue.json"), "w",
              encoding="utf-8", newline="\n") as f:
        json.dump({"procedures": procedures}, f, ensure_ascii=False,
                  indent=2)
        f.write("\n")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for p in procedures:
        writer.writerow([";".join(p[c]) if isinstance(p[c], list) else p[c]
                         for c in COLUMNS])
    # With a byte-order mark, as spreadsheets save "CSV UTF-8".
    with open(os.path.join(out_dir, "catalogue.csv"), "w",
              encoding="utf-8-sig", newline="") as f:
        f.write(buffer.getvalue())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy",
        "examples"), help="folder to write into (default deploy/examples)")
    args = parser.parse_args()
    procedures = make_catalogue()
    write(args.out, procedures)
    levels = [p["level"] for p in procedures]
    print("wrote %d procedures (%d fully online, %d partly online) to %s"
          % (len(procedures), levels.count(FULLY), levels.count(PARTLY),
             os.path.normpath(args.out)))


if __name__ == "__main__":
    main()
